/*
 * The kvmtool tab for Hawtio 2: every domain at a glance, refreshed with ONE Jolokia bulk request per
 * cycle, the actions valid for its state and allowed for the user's role, a domain panel with its
 * attributes, CPU and memory charts, the console and the definition, and a define dialog.
 *
 * It talks only through the `jolokia` client Hawtio injects, so it works the same when Hawtio is
 * connected to another host's manager ("Connect"). Plain AngularJS 1.x, as hawtio-core loads it: no build.
 */
(function () {
  'use strict';

  var MANAGER = 'kvmtool:type=Manager';
  var DOMAINS = 'kvmtool:type=Domain,name=*';
  /* Karaf's JMX security MBean, as Hawtio's own RBAC finds it (its name carries the instance name). */
  var SECURITY_SEARCH = '*:type=security,area=jmx,*';
  /* What the table needs of every domain; the selected domain is read in full. */
  var ATTRIBUTES = ['Name', 'State', 'StateReason', 'Pid', 'Vcpus', 'CpuTimeNanos', 'MemoryUsageBytes',
    'MemoryLimitBytes', 'MaxMemoryBytes', 'CurrentMemoryBytes', 'UptimeSeconds', 'Autostart', 'Persistent'];
  var MANAGER_ATTRIBUTES = ['Uri', 'HypervisorVersion', 'HypervisorAvailable'];
  /* Operations (and attribute writes, as setX) whose permission is asked of Karaf, per domain. */
  var OPERATIONS = ['start', 'shutdown', 'destroy', 'reboot', 'suspend', 'resume', 'setMemory', 'undefine',
    'consoleLog', 'sendConsole', 'dumpXml', 'setAutostart'];
  /* The row buttons that make sense in each state (the driver refuses the others anyway). */
  var VALID = {
    running: ['shutdown', 'reboot', 'suspend', 'destroy'],
    paused: ['resume', 'destroy'],
    shutdown: ['destroy'],
    shutoff: ['start', 'undefine']
  };
  var CONFIRM = {destroy: 'Destroy (power off) domain %s?', undefine: 'Undefine domain %s? Its definition is removed.'};
  var SETMEM_STATES = ['running', 'paused', 'shutoff'];
  var REFRESH_MS = 2000;
  var WINDOW_MS = 5 * 60 * 1000; /* the charts show the last 5 minutes at most */
  var MIN_WINDOW_MS = 60 * 1000;
  var CONSOLE_BYTES = 16384;
  var CHART = {w: 360, h: 100};

  /* "java.lang.IllegalStateException : [OPERATION_INVALID] domain is not running" -> the words after the class. */
  function message(response) {
    var text = (response && (response.error || response.statusText)) || String(response);
    return text.replace(/^[\w.$]+(Exception|Error)\s*:\s*/, '');
  }

  function on(name) {
    return 'kvmtool:type=Domain,name=' + name;
  }

  var MIB = 1048576;

  /*
   * A domain's CPU reading for the CPU % rate: {pid, cpu, t}, or null when it has none (shut off, or no cgroup
   * figure yet: a 0 would make the next reading's whole count look like one interval's).
   */
  function cpuReading(d, now) {
    return d.State !== 'shutoff' && d.CpuTimeNanos > 0 ? {pid: d.Pid, cpu: d.CpuTimeNanos, t: now} : null;
  }

  /*
   * CPU % between two readings of ONE run of lkvm, or null. CpuTimeNanos is cumulative per cgroup: the first
   * reading of a run only primes the rate, and so does a reset (the guest restarted: another Pid, or a count
   * below the previous one), rather than showing a rate against zero or a negative one.
   */
  function cpuPercent(prev, cur) {
    if (!prev || !cur || prev.pid !== cur.pid || cur.cpu < prev.cpu || cur.t <= prev.t) {
      return null;
    }
    return (cur.cpu - prev.cpu) / ((cur.t - prev.t) * 1e6) * 100;
  }

  /* One refresh of a domain's CPU rate: its CPU % (or null) and the reading to keep for the next refresh. */
  function cpuStep(prev, d, now) {
    var cur = cpuReading(d, now);
    return {percent: cpuPercent(prev, cur), prev: cur};
  }

  /*
   * The top of the memory chart, in MiB. The chart shows the cgroup's usage, which counts lkvm's own memory as
   * well as the guest's RAM, so it may pass MaxMemoryBytes: scaled to the cgroup's limit when there is one,
   * otherwise to the larger of the guest's RAM and the highest usage seen, so the line is never cut off.
   */
  function memoryScaleMiB(limitBytes, maxMemoryBytes, peakMiB) {
    if (limitBytes > 0) {
      return limitBytes / MIB;
    }
    return Math.max(1, (maxMemoryBytes > 0 ? maxMemoryBytes : 0) / MIB, Math.ceil(peakMiB || 0));
  }

  /* The host's memory for a domain, as the table shows it: the cgroup's usage, against its limit when set. */
  function usageText(usageBytes, limitBytes) {
    if (!(usageBytes > 0)) {
      return '-';
    }
    var used = Math.round(usageBytes / MIB);
    return limitBytes > 0 ? used + ' / ' + Math.round(limitBytes / MIB) + ' MiB limit' : used + ' MiB';
  }

  /* Under node (the unit test of these figures) there is no Hawtio: hand over the pure functions only. */
  if (typeof module === 'object' && module.exports) {
    module.exports = {cpuReading: cpuReading, cpuPercent: cpuPercent, cpuStep: cpuStep, memoryScaleMiB: memoryScaleMiB,
      usageText: usageText};
    return;
  }

  var template = [
    '<div class="kvmtool">',
    '  <div class="kvmtool-toolbar">',
    '    <input class="form-control kvmtool-filter" placeholder="Filter by name or state" ng-model="$ctrl.filter">',
    '    <button class="btn btn-default kvmtool-define-open" ng-if="$ctrl.canDefine" ng-click="$ctrl.openDefine()">Define domain</button>',
    '    <span class="kvmtool-hypervisor">{{$ctrl.manager.Uri}} &middot; lkvm {{$ctrl.manager.HypervisorAvailable ? $ctrl.manager.HypervisorVersion : \'unavailable\'}}',
    '      &middot; {{$ctrl.domains.length}} domains &middot; <span class="kvmtool-updated">{{$ctrl.updated | date:\'HH:mm:ss\'}}</span></span>',
    '  </div>',
    '  <div class="alert alert-danger kvmtool-error" ng-if="$ctrl.error"><button type="button" class="close" ng-click="$ctrl.error = null">&times;</button>{{$ctrl.error}}</div>',
    '  <div class="kvmtool-define" ng-if="$ctrl.defineOpen">',
    '    <h4>Define a domain</h4>',
    '    <textarea class="form-control kvmtool-define-xml" rows="12" spellcheck="false" ng-model="$ctrl.defineXml" placeholder="&lt;domain type=\'kvmtool\'&gt;...&lt;/domain&gt;"></textarea>',
    '    <div class="kvmtool-define-buttons">',
    '      <button class="btn btn-primary kvmtool-define-submit" ng-click="$ctrl.define()">Define</button>',
    '      <button class="btn btn-default kvmtool-define-cancel" ng-click="$ctrl.defineOpen = false">Cancel</button>',
    '    </div>',
    '    <div class="alert alert-danger kvmtool-define-error" ng-if="$ctrl.defineError">{{$ctrl.defineError.text}}',
    '      <pre class="kvmtool-define-line" ng-if="$ctrl.defineError.line">{{$ctrl.defineError.line}}: {{$ctrl.defineError.source}}</pre></div>',
    '  </div>',
    '  <table class="table table-striped table-hover kvmtool-domains" data-permissions="{{$ctrl.permissionsKnown() ? \'known\' : \'asking\'}}">',
    '    <thead><tr>',
    '      <th ng-repeat="c in ::$ctrl.columns" ng-click="$ctrl.sortBy(c.key)" class="kvmtool-sortable kvmtool-col-{{::c.key}}">{{::c.title}}',
    '        <span ng-if="$ctrl.sort === c.key">{{$ctrl.reverse ? \'&#9660;\' : \'&#9650;\'}}</span></th>',
    '      <th>Actions</th>',
    '    </tr></thead>',
    '    <tbody>',
    '      <tr ng-repeat="d in $ctrl.rows() track by d.Name" class="kvmtool-row" data-domain="{{d.Name}}" data-state="{{d.State}}"',
    '          ng-class="{\'info\': $ctrl.selected === d.Name}">',
    '        <td><a href="" class="kvmtool-name" ng-click="$ctrl.select(d.Name)">{{d.Name}}</a></td>',
    '        <td class="kvmtool-state"><span class="label" ng-class="$ctrl.stateClass(d.State)">{{d.State}}</span> <small>{{d.StateReason}}</small></td>',
    '        <td>{{d.Vcpus}}</td>',
    '        <td class="kvmtool-cpu">{{d.cpuPercent === null ? \'-\' : (d.cpuPercent | number:1) + \' %\'}}</td>',
    '        <td class="kvmtool-memory">{{$ctrl.mib(d.CurrentMemoryBytes)}} / {{$ctrl.mib(d.MaxMemoryBytes)}} MiB</td>',
    '        <td class="kvmtool-usage">{{$ctrl.usage(d)}}</td>',
    '        <td class="kvmtool-uptime">{{$ctrl.uptime(d.UptimeSeconds)}}</td>',
    '        <td>{{d.Autostart ? \'yes\' : \'no\'}}</td>',
    '        <td class="kvmtool-actions">',
    '          <button ng-repeat="op in $ctrl.actions(d)" class="btn btn-xs kvmtool-op-{{op}}" ng-class="op === \'destroy\' || op === \'undefine\' ? \'btn-danger\' : \'btn-default\'"',
    '                  ng-disabled="$ctrl.busy[d.Name]" ng-click="$ctrl.invoke(d.Name, op)">{{op}}</button>',
    '        </td>',
    '      </tr>',
    '      <tr ng-if="$ctrl.rows().length === 0"><td colspan="9" class="kvmtool-empty">{{$ctrl.loaded ? \'No domain\' + ($ctrl.filter ? \' matches the filter\' : \' is defined\') : \'Loading...\'}}</td></tr>',
    '    </tbody>',
    '  </table>',
    '  <div class="kvmtool-detail" ng-if="$ctrl.selected && $ctrl.byName[$ctrl.selected]">',
    '    <h3>{{$ctrl.selected}} <small>{{$ctrl.byName[$ctrl.selected].State}} ({{$ctrl.byName[$ctrl.selected].StateReason}})</small>',
    '      <button type="button" class="close kvmtool-detail-close" ng-click="$ctrl.select(null)">&times;</button></h3>',
    '    <div class="kvmtool-panel">',
    '      <table class="table table-condensed kvmtool-attributes">',
    '        <tr ng-repeat="a in $ctrl.attributes track by a.key" data-attribute="{{a.key}}"><th>{{a.key}}</th><td>{{a.value}}</td></tr>',
    '      </table>',
    '      <div class="kvmtool-charts">',
    '        <div class="kvmtool-chart"><div>CPU % (from CpuTimeNanos), last {{$ctrl.chartSpanText()}} <span class="kvmtool-chart-max">max {{$ctrl.chartMax(\'cpu\') | number:0}} %</span></div>',
    '          <svg class="kvmtool-cpu-chart" ng-attr-viewBox="0 0 {{::$ctrl.chart.w}} {{::$ctrl.chart.h}}" preserveAspectRatio="none">',
    '            <polyline fill="none" stroke="#0088ce" stroke-width="2" ng-attr-points="{{$ctrl.points(\'cpu\')}}"></polyline></svg></div>',
    '        <div class="kvmtool-chart"><div>Host memory of its cgroup (MiB), last {{$ctrl.chartSpanText()}} <span class="kvmtool-chart-max">{{$ctrl.memoryScaleText()}}</span></div>',
    '          <svg class="kvmtool-mem-chart" ng-attr-viewBox="0 0 {{::$ctrl.chart.w}} {{::$ctrl.chart.h}}" preserveAspectRatio="none">',
    '            <polyline fill="none" stroke="#3f9c35" stroke-width="2" ng-attr-points="{{$ctrl.points(\'mem\')}}"></polyline></svg>',
    '          <div class="kvmtool-chart-note">Guest RAM {{$ctrl.mib($ctrl.byName[$ctrl.selected].CurrentMemoryBytes)}} of {{$ctrl.mib($ctrl.byName[$ctrl.selected].MaxMemoryBytes)}} MiB;',
    '            the cgroup also counts lkvm\'s own memory, and only the RAM the guest has touched.</div></div>',
    '        <div class="kvmtool-settings">',
    '          <form class="kvmtool-setmem" ng-if="$ctrl.allowed($ctrl.selected, \'setMemory\') && $ctrl.setMemValid()" ng-submit="$ctrl.setMemory()">',
    '            <input class="form-control kvmtool-setmem-mib" type="number" min="1" ng-model="$ctrl.setMemMiB" placeholder="MiB"> MiB',
    '            <button class="btn btn-default kvmtool-op-setmem" type="submit">Set memory</button>',
    '          </form>',
    '          <label ng-if="$ctrl.byName[$ctrl.selected].Persistent && $ctrl.allowed($ctrl.selected, \'setAutostart\')">',
    '            <input type="checkbox" class="kvmtool-autostart" ng-checked="$ctrl.byName[$ctrl.selected].Autostart" ng-click="$ctrl.toggleAutostart()"> start with the manager (autostart)</label>',
    '        </div>',
    '      </div>',
    '    </div>',
    '    <div ng-if="$ctrl.allowed($ctrl.selected, \'consoleLog\')">',
    '      <h4>Console</h4>',
    '      <pre class="kvmtool-console" kvmtool-follow="$ctrl.console">{{$ctrl.console}}</pre>',
    '      <form ng-submit="$ctrl.send()" ng-if="$ctrl.allowed($ctrl.selected, \'sendConsole\') && $ctrl.byName[$ctrl.selected].State === \'running\'">',
    '        <input class="form-control kvmtool-console-input" ng-model="$ctrl.input" autocomplete="off" placeholder="Type a line for the guest and press Enter">',
    '      </form>',
    '    </div>',
    '    <div ng-if="$ctrl.allowed($ctrl.selected, \'dumpXml\')">',
    '      <h4>Definition (dumpxml)</h4>',
    '      <pre class="kvmtool-xml">{{$ctrl.xml}}</pre>',
    '    </div>',
    '  </div>',
    '</div>'
  ].join('\n');

  function DashboardController($scope, $interval, $window, jolokia) {
    var ctrl = this;
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

    var last = {};          /* name -> {pid, cpu, t}: the previous CPU reading of the domain's run, for CPU % */
    var history = {};       /* name -> [{t, cpu, mem}] within WINDOW_MS */
    var permissions = {};   /* name -> {op: boolean}; '' holds the manager's */
    var security;           /* Karaf's JMX security MBean name; null: none (another runtime), undefined: not known yet */
    var asking = false;
    var inFlight = false;
    var refreshError = null;  /* the error shown because a refresh failed, cleared when one succeeds */

    function changed() {
      $scope.$applyAsync();
    }

    /*
     * The refresh cycle: ONE bulk request holding the pattern read of every domain, the manager, and, when a
     * domain is open, its full attributes and console. A cycle starts only once the previous one answered.
     */
    function refresh() {
      if (inFlight) {
        return;
      }
      inFlight = true;
      var requests = [
        {type: 'read', mbean: DOMAINS, attribute: ATTRIBUTES},
        {type: 'read', mbean: MANAGER, attribute: MANAGER_ATTRIBUTES}
      ];
      var selected = ctrl.selected;
      if (selected) {
        requests.push({type: 'read', mbean: on(selected)});
        if (ctrl.allowed(selected, 'consoleLog')) {
          requests.push({type: 'exec', mbean: on(selected), operation: 'consoleLog(int)', arguments: [CONSOLE_BYTES]});
        }
      }
      var answers = 0;
      var values = null;
      function answered(r, i) {
        var req = requests[i] || r.request || {};
        if (req.type === 'read' && req.mbean === DOMAINS) {
          /* no domain at all is "no MBean matched", not an error */
          values = r.status === 200 ? r.value : {};
          if (r.status !== 200 && r.error_type !== 'javax.management.InstanceNotFoundException') {
            ctrl.error = refreshError = message(r);
          } else if (ctrl.error && ctrl.error === refreshError) {
            ctrl.error = refreshError = null;   /* the refresh works again */
          }
        } else if (req.mbean === MANAGER) {
          ctrl.manager = r.value || {};
        } else if (req.type === 'read' && req.mbean === on(selected)) {
          ctrl.attributes = attributeList(r.status === 200 ? r.value : {});
        } else if (req.type === 'exec' && selected === ctrl.selected) {
          if (r.status === 200) {
            ctrl.console = r.value;
          }
        }
        if (++answers === requests.length) {
          inFlight = false;
          update(values || {});
        }
      }
      jolokia.request(requests, {
        method: 'post',
        success: answered,
        error: answered,
        ajaxError: function (xhr) {
          inFlight = false;
          ctrl.error = refreshError = 'Jolokia did not answer: ' + (xhr.status ? xhr.status + ' ' + xhr.statusText : 'no connection');
          changed();
        }
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
        var cpu = cpuStep(last[d.Name], d, now);
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
      changed();
    }

    /*
     * Ask Karaf's JMX security which operations this user may invoke, as Hawtio's RBAC does: one bulk
     * canInvoke(Map) for every domain not asked about yet (per domain: jmx.acl.kvmtool.Domain.NAME may differ).
     */
    function askPermissions(names) {
      if (asking) {
        return;
      }
      asking = true;
      if (security === undefined) {
        jolokia.request({type: 'search', mbean: SECURITY_SEARCH}, {
          method: 'post',
          success: function (r) { security = chooseSecurity(r.value || []); asking = false; askPermissions(names); },
          error: function () { security = null; asking = false; askPermissions(names); }
        });
        return;
      }
      if (security === null) {
        /* No Karaf security MBean (another runtime): show what the state allows; the server still decides. */
        names.concat(['']).forEach(function (n) {
          permissions[n] = {};
          OPERATIONS.concat(['defineDomain']).forEach(function (op) { permissions[n][op] = true; });
        });
        asking = false;
        ctrl.canDefine = true;
        changed();
        return;
      }
      var map = {};
      map[MANAGER] = ['defineDomain'];
      names.forEach(function (n) { map[on(n)] = OPERATIONS; });
      jolokia.request({type: 'exec', mbean: security, operation: 'canInvoke(java.util.Map)', arguments: [map]}, {
        method: 'post',
        success: function (r) {
          function can(objectName, op) {
            var answer = r.value && r.value[objectName] && r.value[objectName][op];
            return !!(answer && answer.CanInvoke);
          }
          permissions[''] = {defineDomain: can(MANAGER, 'defineDomain')};
          ctrl.canDefine = permissions[''].defineDomain;
          names.forEach(function (n) {
            permissions[n] = {};
            OPERATIONS.forEach(function (op) { permissions[n][op] = can(on(n), op); });
          });
          asking = false;
          changed();
          if (ctrl.selected && names.indexOf(ctrl.selected) >= 0) {
            loadXml();
          }
        },
        error: function (r) {
          /* not allowed to ask: show no action (the server would refuse them too) */
          permissions[''] = {defineDomain: false};
          names.forEach(function (n) { permissions[n] = {}; });
          asking = false;
          ctrl.error = 'Cannot ask Karaf which operations are allowed: ' + message(r);
          changed();
        }
      });
    }

    /*
     * Several MBeans may match: Hawtio registers a permissive stand-in (hawtio:...,rank=0,type=security) for
     * runtimes without RBAC. As Hawtio does, take the highest rank; Karaf's own carries none and wins.
     */
    function chooseSecurity(names) {
      function rank(objectName) {
        var m = /[:,]rank=(\d+)/.exec(objectName);
        return m ? parseInt(m[1], 10) : Number.MAX_SAFE_INTEGER;
      }
      var sorted = names.slice().sort(function (a, b) { return rank(b) - rank(a); });
      return sorted.length ? sorted[0] : null;
    }

    /* Whether Karaf has answered for the manager and every listed domain (tests wait for it). */
    ctrl.permissionsKnown = function () {
      return !!permissions[''] && ctrl.domains.every(function (d) { return !!permissions[d.Name]; });
    };

    ctrl.allowed = function (name, op) {
      return !!(permissions[name] && permissions[name][op]);
    };

    ctrl.actions = function (d) {
      return (VALID[d.State] || []).filter(function (op) { return ctrl.allowed(d.Name, op); });
    };

    ctrl.rows = function () {
      var f = (ctrl.filter || '').toLowerCase();
      var rows = ctrl.domains.filter(function (d) {
        return !f || d.Name.toLowerCase().indexOf(f) >= 0 || String(d.State).indexOf(f) >= 0;
      });
      var key = ctrl.sort;
      rows.sort(function (a, b) {
        var x = a[key], y = b[key];
        var c = x === y ? 0 : (x === null || x === undefined) ? -1 : (y === null || y === undefined) ? 1 : x < y ? -1 : 1;
        if (c === 0 && key !== 'Name') {
          c = a.Name < b.Name ? -1 : 1;
        }
        return ctrl.reverse ? -c : c;
      });
      return rows;
    };

    ctrl.sortBy = function (key) {
      ctrl.reverse = ctrl.sort === key ? !ctrl.reverse : false;
      ctrl.sort = key;
    };

    function loadXml() {
      var name = ctrl.selected;
      if (!name || !ctrl.allowed(name, 'dumpXml')) {
        return;
      }
      jolokia.request({type: 'exec', mbean: on(name), operation: 'dumpXml()'}, {
        method: 'post',
        success: function (r) { if (ctrl.selected === name) { ctrl.xml = r.value; changed(); } },
        error: function (r) { if (ctrl.selected === name) { ctrl.xml = message(r); changed(); } }
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

    function exec(name, operation, args, after) {
      ctrl.error = null;
      ctrl.busy[name] = true;
      jolokia.request({type: 'exec', mbean: on(name), operation: operation, arguments: args || []}, {
        method: 'post',
        success: function () { delete ctrl.busy[name]; refresh(); if (after) { after(); } },
        error: function (r) { delete ctrl.busy[name]; ctrl.error = name + ': ' + message(r); changed(); },
        ajaxError: function (xhr) { delete ctrl.busy[name]; ctrl.error = name + ': HTTP ' + xhr.status; changed(); }
      });
    }

    ctrl.invoke = function (name, op) {
      if (CONFIRM[op] && !$window.confirm(CONFIRM[op].replace('%s', name))) {
        return;
      }
      exec(name, op + '()', [], op === 'undefine' && ctrl.selected === name ? function () { ctrl.select(null); } : null);
    };

    ctrl.setMemValid = function () {
      var d = ctrl.byName[ctrl.selected];
      return d && SETMEM_STATES.indexOf(d.State) >= 0;
    };

    ctrl.setMemory = function () {
      if (ctrl.setMemMiB > 0) {
        exec(ctrl.selected, 'setMemory(long)', [Math.round(ctrl.setMemMiB * MIB)]);
      }
    };

    ctrl.toggleAutostart = function () {
      var name = ctrl.selected;
      var d = ctrl.byName[name];
      jolokia.request({type: 'write', mbean: on(name), attribute: 'Autostart', value: !d.Autostart}, {
        method: 'post',
        success: function () { refresh(); },
        error: function (r) { ctrl.error = name + ': ' + message(r); changed(); }
      });
    };

    ctrl.send = function () {
      var text = (ctrl.input || '') + '\r';
      ctrl.input = '';
      exec(ctrl.selected, 'sendConsole(java.lang.String)', [text]);
    };

    ctrl.openDefine = function () {
      ctrl.defineOpen = true;
      ctrl.defineError = null;
    };

    ctrl.define = function () {
      ctrl.defineError = null;
      var xml = ctrl.defineXml || '';
      jolokia.request({type: 'exec', mbean: MANAGER, operation: 'defineDomain(java.lang.String)', arguments: [xml]}, {
        method: 'post',
        success: function (r) {
          ctrl.defineOpen = false;
          ctrl.defineXml = '';
          ctrl.select(r.value);
        },
        error: function (r) {
          /* the codec says where: "... (line 4:1): ..."; show that line of the text as well */
          var text = message(r);
          var m = /line (\d+)/.exec(text);
          var line = m ? parseInt(m[1], 10) : 0;
          var source = line ? xml.split('\n')[line - 1] : undefined;
          ctrl.defineError = {text: text, line: source === undefined ? null : line, source: source};
          changed();
        }
      });
    };

    ctrl.chartMax = function (series) {
      var peak = 0;
      (history[ctrl.selected] || []).forEach(function (s) { peak = Math.max(peak, s[series]); });
      if (series === 'mem') {
        var d = ctrl.byName[ctrl.selected] || {};
        return memoryScaleMiB(d.MemoryLimitBytes, d.MaxMemoryBytes, peak);
      }
      /* whole decades of percent, at least 10 %, so a small load stays visible */
      return Math.max(10, Math.ceil(peak / 10) * 10);
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
      var h = history[ctrl.selected] || [];
      if (h.length < 2) {
        return '';
      }
      var max = ctrl.chartMax(series);
      var end = h[h.length - 1].t;
      var span = ctrl.chartSpan();
      return h.filter(function (s) { return s[series] !== null; }).map(function (s) {
        var x = CHART.w - (end - s.t) / span * CHART.w;
        var y = CHART.h - 2 - Math.min(1, s[series] / max) * (CHART.h - 4);
        return x.toFixed(1) + ',' + y.toFixed(1);
      }).join(' ');
    };

    ctrl.mib = function (bytes) { return bytes > 0 ? Math.round(bytes / MIB) : 0; };
    ctrl.usage = function (d) { return usageText(d.MemoryUsageBytes, d.MemoryLimitBytes); };
    ctrl.stateClass = function (s) {
      return {running: 'label-success', paused: 'label-warning', shutdown: 'label-info', shutoff: 'label-default'}[s] || 'label-default';
    };
    ctrl.uptime = function (s) {
      if (!s || s <= 0) { return '-'; }
      var h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
      return (h ? h + 'h ' : '') + (h || m ? m + 'm ' : '') + sec + 's';
    };

    refresh();
    var timer = $interval(refresh, REFRESH_MS, 0, false);
    $scope.$on('$destroy', function () { $interval.cancel(timer); });
  }
  DashboardController.$inject = ['$scope', '$interval', '$window', 'jolokia'];

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

  angular.module('kvmtool', [])
    .component('kvmtoolDashboard', {template: template, controller: DashboardController})
    .directive('kvmtoolFollow', followDirective)
    .run(['mainNavService', 'workspace', function (mainNavService, workspace) {
      mainNavService.addItem({
        title: 'kvmtool',
        basePath: '/kvmtool',
        template: '<kvmtool-dashboard></kvmtool-dashboard>',
        /* shown where the connected JVM runs a kvmtool manager (locally or through "Connect") */
        isValid: function () { return workspace.treeContainsDomainAndProperties('kvmtool'); }
      });
    }]);

  var style = document.createElement('style');
  style.textContent = [
    '.kvmtool { padding: 10px 20px; }',
    '.kvmtool-toolbar { display: flex; gap: 8px; align-items: center; margin: 0 0 10px 0; }',
    '.kvmtool-filter { max-width: 260px; }',
    '.kvmtool-hypervisor { margin-left: auto; color: #72767b; }',
    '.kvmtool-sortable { cursor: pointer; white-space: nowrap; }',
    '.kvmtool-cpu, .kvmtool-memory, .kvmtool-usage { white-space: nowrap; }',
    '.kvmtool-actions .btn { margin-right: 4px; }',
    '.kvmtool-empty { color: #72767b; text-align: center; }',
    '.kvmtool-define { border: 1px solid #d1d1d1; padding: 10px; margin-bottom: 10px; }',
    '.kvmtool-define-xml { font-family: monospace; }',
    '.kvmtool-define-buttons { margin: 8px 0; }',
    '.kvmtool-define-line { margin: 6px 0 0 0; }',
    '.kvmtool-detail { border-top: 2px solid #0088ce; padding-top: 4px; }',
    '.kvmtool-panel { display: flex; gap: 24px; align-items: flex-start; }',
    '.kvmtool-attributes { width: auto; min-width: 380px; }',
    '.kvmtool-attributes th { font-weight: 600; padding-right: 16px; }',
    '.kvmtool-charts { display: flex; flex-direction: column; gap: 12px; }',
    '.kvmtool-chart svg { width: 360px; height: 100px; background: #f5f5f5; border: 1px solid #d1d1d1; display: block; }',
    '.kvmtool-chart-max { color: #72767b; margin-left: 8px; }',
    '.kvmtool-chart-note { color: #72767b; font-size: 11px; max-width: 360px; }',
    '.kvmtool-console { max-height: 260px; overflow: auto; background: #1e1e1e; color: #e0e0e0; white-space: pre-wrap; }',
    '.kvmtool-setmem { display: flex; gap: 8px; align-items: center; margin: 0 0 6px 0; }',
    '.kvmtool-setmem input[type=number] { max-width: 120px; }',
    '.kvmtool-xml { max-height: 300px; overflow: auto; }'
  ].join('\n');
  document.head.appendChild(style);

  hawtioPluginLoader.addModule('kvmtool');
})();
