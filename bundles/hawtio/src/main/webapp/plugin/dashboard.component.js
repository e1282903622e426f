/*
 * <kvmtool-dashboard>: every domain at a glance, refreshed every 2 s by ONE Jolokia bulk request (started only
 * once the previous one answered), the buttons its state allows and the user may press, a domain panel with its
 * attributes, CPU and memory charts, the console and the definition, and a define dialog. Its template is
 * dashboard.html, served beside this script and put into $templateCache by loadTemplate below.
 */
(function () {
  'use strict';

  var REFRESH_MS = 2000;
  var WINDOW_MS = 5 * 60 * 1000; /* the charts show the last 5 minutes at most */
  var MIN_WINDOW_MS = 60 * 1000;
  var CHART = {w: 360, h: 100};
  var CONFIRM = {destroy: 'Destroy (power off) domain %s?',
    undefine: 'Undefine domain %s? Its definition is removed (a running domain goes on until it stops).'};
  var STATE_CLASS = {running: 'label-success', paused: 'label-warning', shutdown: 'label-info', shutoff: 'label-default'};

  function DashboardController($interval, $window, kvmtool, figures) {
    var ctrl = this;
    var MIB = figures.MIB;

    var last = {};          /* name -> {pid, cpu, t}: the previous CPU reading of the domain's run, for CPU % */
    var history = {};       /* name -> [{t, cpu, mem}] within WINDOW_MS */
    var permissions = {};   /* name -> {op: boolean}; '' holds the manager's */
    var asking = false;
    var inFlight = false;
    var refreshError = null;  /* the error shown because a refresh failed, cleared when one succeeds */
    var timer = null;

    ctrl.$onInit = function () {
      ctrl.domains = [];
      ctrl.byName = {};
      ctrl.manager = {};
      ctrl.sort = 'Name';
      ctrl.reverse = false;
      ctrl.busy = {};
      ctrl.loaded = false;
      ctrl.chart = CHART;
      ctrl.attributes = [];
      ctrl.columns = [
        {key: 'Name', title: 'Name'}, {key: 'State', title: 'State'}, {key: 'Vcpus', title: 'vCPUs'},
        {key: 'cpuPercent', title: 'CPU'}, {key: 'CurrentMemoryBytes', title: 'Guest RAM / max'},
        {key: 'MemoryUsageBytes', title: 'Host memory (cgroup)'},
        {key: 'UptimeSeconds', title: 'Uptime'}, {key: 'Autostart', title: 'Autostart'}];
      refresh();
      timer = $interval(refresh, REFRESH_MS, 0, false);
    };

    ctrl.$onDestroy = function () {
      $interval.cancel(timer);
    };

    function refresh() {
      if (inFlight) {
        return;
      }
      inFlight = true;
      var selected = ctrl.selected;
      kvmtool.refresh(selected, selected && ctrl.permitted(selected, 'consoleLog')).then(function (r) {
        if (r.domainsError) {
          ctrl.error = refreshError = r.domainsError;
        } else if (ctrl.error && ctrl.error === refreshError) {
          ctrl.error = refreshError = null;   /* the refresh works again */
        }
        ctrl.manager = r.manager;
        if (selected && selected === ctrl.selected) {
          ctrl.attributes = attributeList(r.attributes || {});
          if (r.console !== null) {
            ctrl.console = r.console;
          }
        }
        update(r.domains);
      }, function (text) {
        ctrl.error = refreshError = text;
      }).finally(function () {
        inFlight = false;
      });
    }

    function update(values) {
      var now = Date.now();
      var domains = [];
      var unknown = [];
      Object.keys(values).forEach(function (objectName) {
        var d = values[objectName];
        if (!d || typeof d.Name !== 'string') {
          return;
        }
        var cpu = figures.cpuStep(last[d.Name], d, now);
        d.cpuPercent = cpu.percent;
        last[d.Name] = cpu.prev;
        var h = history[d.Name] = history[d.Name] || [];
        h.push({t: now, cpu: d.cpuPercent, mem: (d.MemoryUsageBytes > 0 ? d.MemoryUsageBytes : 0) / MIB});
        while (h.length && h[0].t < now - WINDOW_MS) {
          h.shift();
        }
        if (!permissions[d.Name]) {
          unknown.push(d.Name);
        }
        domains.push(d);
      });
      ctrl.domains = domains;
      ctrl.byName = {};
      domains.forEach(function (d) { ctrl.byName[d.Name] = d; });
      ctrl.updated = now;
      ctrl.loaded = true;
      if (unknown.length || !permissions['']) {
        askPermissions(unknown);
      }
    }

    /* Once per domain (and for the manager): jmx.acl.kvmtool.Domain.NAME may differ from domain to domain. */
    function askPermissions(names) {
      if (asking) {
        return;
      }
      asking = true;
      kvmtool.permissions(names).then(function (answer) {
        angular.extend(permissions, answer);
        ctrl.canDefine = permissions[''].defineDomain;
        if (ctrl.selected && names.indexOf(ctrl.selected) >= 0) {
          loadXml();
        }
      }, function (text) {
        /* not allowed to ask: show no action (the server would refuse them too) */
        permissions[''] = {defineDomain: false};
        names.forEach(function (n) { permissions[n] = {}; });
        ctrl.canDefine = false;
        ctrl.error = 'Cannot ask which operations are allowed: ' + text;
      }).finally(function () {
        asking = false;
      });
    }

    /* Whether the permissions of the manager and every listed domain are known (tests wait for it). */
    ctrl.permissionsKnown = function () {
      return !!permissions[''] && ctrl.domains.every(function (d) { return !!permissions[d.Name]; });
    };

    /* The user may invoke the operation on the domain (Karaf's answer). */
    ctrl.permitted = function (name, op) {
      return !!(permissions[name] && permissions[name][op]);
    };

    /* The user may invoke it and the domain's state allows it now. */
    ctrl.can = function (name, op) {
      return figures.stateAllows(ctrl.byName[name], op) && ctrl.permitted(name, op);
    };

    ctrl.actions = function (d) {
      return figures.rowActions(d, function (op) { return ctrl.permitted(d.Name, op); });
    };

    ctrl.rows = function () {
      return figures.tableRows(ctrl.domains, ctrl.filter, ctrl.sort, ctrl.reverse);
    };

    ctrl.sortBy = function (key) {
      ctrl.reverse = ctrl.sort === key ? !ctrl.reverse : false;
      ctrl.sort = key;
    };

    function loadXml() {
      var name = ctrl.selected;
      if (!name || !ctrl.permitted(name, 'dumpXml')) {
        return;
      }
      kvmtool.exec(name, 'dumpXml()').then(function (xml) {
        if (ctrl.selected === name) { ctrl.xml = xml; }
      }, function (text) {
        if (ctrl.selected === name) { ctrl.xml = text; }
      });
    }

    ctrl.select = function (name) {
      ctrl.selected = name;
      ctrl.console = '';
      ctrl.xml = '';
      ctrl.attributes = [];
      var d = name && ctrl.byName[name];
      ctrl.setMemMiB = d ? Math.round(d.CurrentMemoryBytes / MIB) : null;
      if (name) {
        loadXml();
        refresh();
      }
    };

    /* The selected domain's full read, as rows for the attribute table (a new list per refresh only). */
    function attributeList(values) {
      return Object.keys(values).sort().map(function (k) {
        var v = values[k];
        return {key: k, value: Array.isArray(v) ? '[' + v.join(', ') + ']' : v === null ? '-' : String(v)};
      });
    }

    /* An action on a domain: its row's buttons are disabled until it answered; a refresh shows its effect. */
    function act(name, promise, after) {
      ctrl.error = null;
      ctrl.busy[name] = true;
      promise.then(function () {
        delete ctrl.busy[name];
        refresh();
        if (after) {
          after();
        }
      }, function (text) {
        delete ctrl.busy[name];
        ctrl.error = name + ': ' + text;
      });
    }

    ctrl.invoke = function (name, op) {
      if (CONFIRM[op] && !$window.confirm(CONFIRM[op].replace('%s', name))) {
        return;
      }
      act(name, kvmtool.exec(name, op + '()'), op === 'undefine' && ctrl.selected === name ? function () { ctrl.select(null); } : null);
    };

    ctrl.setMemory = function () {
      if (ctrl.setMemMiB > 0) {
        act(ctrl.selected, kvmtool.exec(ctrl.selected, 'setMemory(long)', [Math.round(ctrl.setMemMiB * MIB)]));
      }
    };

    ctrl.toggleAutostart = function () {
      var name = ctrl.selected;
      act(name, kvmtool.write(name, 'Autostart', !ctrl.byName[name].Autostart));
    };

    ctrl.send = function () {
      var text = (ctrl.input || '') + '\r';
      ctrl.input = '';
      act(ctrl.selected, kvmtool.exec(ctrl.selected, 'sendConsole(java.lang.String)', [text]));
    };

    ctrl.openDefine = function () {
      ctrl.defineOpen = true;
      ctrl.defineError = null;
    };

    ctrl.define = function () {
      ctrl.defineError = null;
      var xml = ctrl.defineXml || '';
      kvmtool.define(xml).then(function (name) {
        ctrl.defineOpen = false;
        ctrl.defineXml = '';
        ctrl.select(name);
      }, function (text) {
        ctrl.defineError = figures.defineError(text, xml);
      });
    };

    ctrl.chartMax = function (series) {
      var peak = 0;
      (history[ctrl.selected] || []).forEach(function (s) { peak = Math.max(peak, s[series]); });
      if (series === 'mem') {
        var d = ctrl.byName[ctrl.selected] || {};
        return figures.memoryScaleMiB(d.MemoryLimitBytes, d.MaxMemoryBytes, peak);
      }
      return figures.cpuScale(peak);
    };

    ctrl.memoryScaleText = function () {
      var d = ctrl.byName[ctrl.selected] || {};
      var top = Math.round(ctrl.chartMax('mem'));
      return d.MemoryLimitBytes > 0 ? 'limit ' + top + ' MiB' : 'scale ' + top + ' MiB, no limit';
    };

    /* The time the charts span: what has been seen, from one to five minutes, so early samples are not a sliver. */
    ctrl.chartSpan = function () {
      var h = history[ctrl.selected] || [];
      var seen = h.length ? h[h.length - 1].t - h[0].t : 0;
      return Math.min(WINDOW_MS, Math.max(MIN_WINDOW_MS, seen));
    };

    ctrl.chartSpanText = function () {
      var s = Math.round(ctrl.chartSpan() / 1000);
      return s < 120 ? s + ' s' : Math.round(s / 60) + ' min';
    };

    ctrl.points = function (series) {
      return figures.chartPoints(history[ctrl.selected] || [], series, ctrl.chartMax(series), ctrl.chartSpan(), CHART);
    };

    ctrl.mib = function (bytes) { return bytes > 0 ? Math.round(bytes / MIB) : 0; };
    ctrl.usage = function (d) { return figures.usageText(d.MemoryUsageBytes, d.MemoryLimitBytes); };
    ctrl.uptime = figures.uptimeText;
    ctrl.stateClass = function (s) { return STATE_CLASS[s] || 'label-default'; };
  }
  DashboardController.$inject = ['$interval', '$window', 'kvmtoolService', 'kvmtoolFigures'];

  /* Keeps a scrolled box at its end when its content grows, unless the user scrolled up to read. */
  function followDirective($timeout) {
    return {
      restrict: 'A',
      link: function (scope, element, attrs) {
        var el = element[0];
        /* known from the user's own scrolling: by the time the watch fires, the new text is already in */
        var follow = true;
        element.on('scroll', function () {
          follow = el.scrollHeight - el.scrollTop - el.clientHeight < 30;
        });
        scope.$watch(attrs.kvmtoolFollow, function () {
          if (follow) {
            $timeout(function () { el.scrollTop = el.scrollHeight; }, 0, false);
          }
        });
      }
    };
  }
  followDirective.$inject = ['$timeout'];

  /*
   * Hawtio 2 never fetches a templateUrl itself (hawtio-core decorates $templateRequest to wait until the
   * template is put into $templateCache, where its own plugins' templates are built in): fetch it from this
   * bundle and put it there; a dashboard already waiting for it renders then.
   */
  function loadTemplate($http, $templateCache, $log, base) {
    var url = base + 'dashboard.html';
    $http.get(url).then(function (r) {
      $templateCache.put(url, r.data);
    }, function (r) {
      $log.error('kvmtool: cannot load the template ' + url + ': HTTP ' + r.status);
    });
  }
  loadTemplate.$inject = ['$http', '$templateCache', '$log', 'kvmtoolBase'];

  angular.module('kvmtool-dashboard', ['kvmtool-figures', 'kvmtool-service'])
    .component('kvmtoolDashboard', {
      /* kvmtoolBase: where this bundle serves the plugin's files (the module kvmtool, kvmtool.module.js) */
      templateUrl: ['kvmtoolBase', function (base) { return base + 'dashboard.html'; }],
      controller: DashboardController
    })
    .directive('kvmtoolFollow', followDirective)
    .run(loadTemplate);
})();
