/*
 * The kvmtool tab for Hawtio 2: every domain at a glance, refreshed with ONE Jolokia bulk request,
 * with the actions valid for its state and allowed for the user's role, a domain page with CPU and
 * memory charts, the console and the definition, and a define dialog.
 *
 * It talks only through the `jolokia` client Hawtio injects, so it works the same when Hawtio is
 * connected to another host's manager ("Connect").
 */
(function () {
  'use strict';

  var MANAGER = 'kvmtool:type=Manager';
  var DOMAINS = 'kvmtool:type=Domain,name=*';
  var SECURITY = 'org.apache.karaf:type=security,area=jmx';
  var ATTRIBUTES = ['Name', 'State', 'StateReason', 'Vcpus', 'CpuTimeNanos', 'MemoryUsageBytes',
    'MaxMemoryBytes', 'CurrentMemoryBytes', 'UptimeSeconds', 'Autostart', 'Persistent', 'Pid'];
  var OPERATIONS = ['start', 'shutdown', 'destroy', 'reboot', 'suspend', 'resume', 'setMemory', 'undefine',
    'consoleLog', 'sendConsole', 'dumpXml'];
  /* Which operations make sense in which state (the driver refuses the others anyway). */
  var VALID = {
    running: ['shutdown', 'destroy', 'reboot', 'suspend', 'setMemory'],
    paused: ['resume', 'destroy', 'setMemory'],
    shutdown: ['destroy'],
    shutoff: ['start', 'setMemory', 'undefine']
  };
  var HISTORY = 150; /* samples kept per domain: 5 minutes at the 2 s refresh */
  var REFRESH_MS = 2000;

  var template = [
    '<div class="kvmtool">',
    '  <div class="kvmtool-toolbar">',
    '    <input class="form-control kvmtool-filter" placeholder="Filter by name or state" ng-model="$ctrl.filter">',
    '    <button class="btn btn-default kvmtool-define-open" ng-if="$ctrl.canDefine" ng-click="$ctrl.defineOpen = true">Define domain</button>',
    '    <span class="kvmtool-hypervisor">{{$ctrl.manager.Uri}} &middot; lkvm {{$ctrl.manager.HypervisorVersion || \'unavailable\'}}</span>',
    '  </div>',
    '  <div class="alert alert-danger kvmtool-error" ng-if="$ctrl.error">{{$ctrl.error}}</div>',
    '  <div class="kvmtool-define" ng-if="$ctrl.defineOpen">',
    '    <textarea class="form-control kvmtool-define-xml" rows="12" ng-model="$ctrl.defineXml" placeholder="&lt;domain type=\'kvmtool\'&gt;...&lt;/domain&gt;"></textarea>',
    '    <button class="btn btn-primary kvmtool-define-submit" ng-click="$ctrl.define()">Define</button>',
    '    <button class="btn btn-default" ng-click="$ctrl.defineOpen = false">Cancel</button>',
    '    <div class="alert alert-danger kvmtool-define-error" ng-if="$ctrl.defineError">{{$ctrl.defineError}}</div>',
    '  </div>',
    '  <table class="table table-striped table-hover kvmtool-domains">',
    '    <thead><tr>',
    '      <th ng-repeat="c in $ctrl.columns" ng-click="$ctrl.sortBy(c.key)" class="kvmtool-sortable">{{c.title}}',
    '        <span ng-if="$ctrl.sort === c.key">{{$ctrl.reverse ? \'&#9660;\' : \'&#9650;\'}}</span></th>',
    '      <th>Actions</th>',
    '    </tr></thead>',
    '    <tbody>',
    '      <tr ng-repeat="d in $ctrl.rows() track by d.Name" class="kvmtool-row" data-domain="{{d.Name}}"',
    '          ng-class="{\'info\': $ctrl.selected === d.Name}">',
    '        <td><a href="" class="kvmtool-name" ng-click="$ctrl.select(d.Name)">{{d.Name}}</a></td>',
    '        <td class="kvmtool-state"><span class="label" ng-class="$ctrl.stateClass(d.State)">{{d.State}}</span> <small>{{d.StateReason}}</small></td>',
    '        <td>{{d.Vcpus}}</td>',
    '        <td class="kvmtool-cpu">{{d.cpuPercent === null ? \'-\' : (d.cpuPercent | number:1) + \' %\'}}</td>',
    '        <td class="kvmtool-memory">{{$ctrl.mib(d.MemoryUsageBytes)}} / {{$ctrl.mib(d.MaxMemoryBytes)}} MiB</td>',
    '        <td>{{$ctrl.uptime(d.UptimeSeconds)}}</td>',
    '        <td>{{d.Autostart ? \'yes\' : \'no\'}}</td>',
    '        <td class="kvmtool-actions">',
    '          <button ng-repeat="op in $ctrl.actions(d)" class="btn btn-xs btn-default kvmtool-op-{{op}}"',
    '                  ng-click="$ctrl.invoke(d.Name, op)">{{op}}</button>',
    '        </td>',
    '      </tr>',
    '    </tbody>',
    '  </table>',
    '  <div class="kvmtool-detail" ng-if="$ctrl.selected && $ctrl.byName[$ctrl.selected]">',
    '    <h3>{{$ctrl.selected}} <small>{{$ctrl.byName[$ctrl.selected].State}} ({{$ctrl.byName[$ctrl.selected].StateReason}}), pid {{$ctrl.byName[$ctrl.selected].Pid}}</small></h3>',
    '    <div class="kvmtool-charts">',
    '      <div class="kvmtool-chart"><div>CPU % (last {{$ctrl.historyMinutes()}} min)</div>',
    '        <svg class="kvmtool-cpu-chart" width="320" height="80"><polyline fill="none" stroke="#0088ce" stroke-width="2" ng-attr-points="{{$ctrl.points(\'cpu\')}}"></polyline></svg></div>',
    '      <div class="kvmtool-chart"><div>Memory MiB</div>',
    '        <svg class="kvmtool-mem-chart" width="320" height="80"><polyline fill="none" stroke="#3f9c35" stroke-width="2" ng-attr-points="{{$ctrl.points(\'mem\')}}"></polyline></svg></div>',
    '    </div>',
    '    <div class="kvmtool-setmem" ng-if="$ctrl.allowed(\'setMemory\')">',
    '      <input class="form-control kvmtool-setmem-mib" type="number" min="1" ng-model="$ctrl.setMemMiB" placeholder="MiB">',
    '      <button class="btn btn-default kvmtool-op-setmem" ng-click="$ctrl.setMemory()">Set memory</button>',
    '      <label ng-if="$ctrl.byName[$ctrl.selected].Persistent"><input type="checkbox" class="kvmtool-autostart" ng-model="$ctrl.byName[$ctrl.selected].Autostart" ng-change="$ctrl.setAutostart()"> autostart</label>',
    '    </div>',
    '    <div ng-if="$ctrl.allowed(\'consoleLog\')">',
    '      <h4>Console</h4>',
    '      <pre class="kvmtool-console">{{$ctrl.console}}</pre>',
    '      <form ng-submit="$ctrl.send()" ng-if="$ctrl.allowed(\'sendConsole\')">',
    '        <input class="form-control kvmtool-console-input" ng-model="$ctrl.input" placeholder="Type a line for the guest and press Enter">',
    '      </form>',
    '    </div>',
    '    <h4>Definition</h4>',
    '    <pre class="kvmtool-xml">{{$ctrl.xml}}</pre>',
    '  </div>',
    '</div>'
  ].join('\n');

  function DashboardController($scope, $interval, jolokia) {
    var ctrl = this;
    ctrl.domains = [];
    ctrl.byName = {};
    ctrl.manager = {};
    ctrl.sort = 'Name';
    ctrl.reverse = false;
    ctrl.permissions = null; /* op -> boolean; null until known */
    ctrl.columns = [
      {key: 'Name', title: 'Name'}, {key: 'State', title: 'State'}, {key: 'Vcpus', title: 'vCPUs'},
      {key: 'cpuPercent', title: 'CPU'}, {key: 'MemoryUsageBytes', title: 'Memory used / max'},
      {key: 'UptimeSeconds', title: 'Uptime'}, {key: 'Autostart', title: 'Autostart'}];
    var last = {}; /* name -> {cpu, t} of the previous refresh */
    var history = {}; /* name -> [{cpu, mem}] */

    function apply() {
      if (!$scope.$$phase && !$scope.$root.$$phase) {
        $scope.$apply();
      }
    }

    function failed(response) {
      ctrl.error = response.error || String(response);
      apply();
    }

    /* One bulk request: every domain's attributes through a pattern read, plus the manager. */
    function refresh() {
      jolokia.request([
        {type: 'read', mbean: DOMAINS, attribute: ATTRIBUTES},
        {type: 'read', mbean: MANAGER}
      ], {
        method: 'post',
        success: [function (r) { update(r.status === 200 ? r.value : {}, r.timestamp); },
          function (r) { ctrl.manager = r.value || {}; apply(); }],
        error: [function (r) {
          /* no domain at all is "nothing matched", not an error */
          if (r.error_type === 'javax.management.InstanceNotFoundException') { update({}, r.timestamp); } else { failed(r); }
        }, failed]
      });
      if (ctrl.selected) {
        detail();
      }
    }

    function update(values, timestamp) {
      var now = Date.now();
      var domains = [];
      Object.keys(values).forEach(function (objectName) {
        var d = values[objectName];
        var prev = last[d.Name];
        d.cpuPercent = null;
        if (prev && now > prev.t && d.State !== 'shutoff') {
          d.cpuPercent = Math.max(0, (d.CpuTimeNanos - prev.cpu) / ((now - prev.t) * 1e6) * 100);
        }
        last[d.Name] = {cpu: d.CpuTimeNanos, t: now};
        var h = history[d.Name] = history[d.Name] || [];
        h.push({cpu: d.cpuPercent || 0, mem: d.MemoryUsageBytes / 1048576});
        if (h.length > HISTORY) { h.shift(); }
        domains.push(d);
      });
      ctrl.domains = domains;
      ctrl.byName = {};
      domains.forEach(function (d) { ctrl.byName[d.Name] = d; });
      ctrl.error = null;
      if (ctrl.permissions === null && !asking && domains.length > 0) {
        permissions(Object.keys(values)[0]);
      }
      apply();
    }

    function detail() {
      var on = 'kvmtool:type=Domain,name=' + ctrl.selected;
      var requests = [{type: 'exec', mbean: on, operation: 'dumpXml()'}];
      if (ctrl.allowed('consoleLog')) {
        requests.push({type: 'exec', mbean: on, operation: 'consoleLog(int)', arguments: [16384]});
      }
      jolokia.request(requests, {
        method: 'post',
        success: [function (r) { ctrl.xml = r.value; apply(); }, function (r) { ctrl.console = r.value; apply(); }],
        error: function () { /* the domain may just have gone; the next refresh shows it */ }
      });
    }

    /*
     * Ask Karaf's JMX security what this user may invoke, as Hawtio's RBAC does. Karaf answers for a
     * registered MBean, so the domain operations are asked about a real domain once one exists.
     */
    var asking = false;
    function permissions(domainObjectName) {
      var requests = [{type: 'exec', mbean: SECURITY, operation: 'canInvoke(java.lang.String,java.lang.String)', arguments: [MANAGER, 'defineDomain']}];
      if (domainObjectName) {
        OPERATIONS.forEach(function (op) {
          requests.push({type: 'exec', mbean: SECURITY, operation: 'canInvoke(java.lang.String,java.lang.String)', arguments: [domainObjectName, op]});
        });
      }
      var result = {};
      var answered = 0;
      asking = true;
      function done() {
        if (++answered === requests.length) {
          asking = false;
          ctrl.canDefine = result.defineDomain === true;
          delete result.defineDomain;
          if (domainObjectName) {
            ctrl.permissions = result;
          }
          apply();
        }
      }
      jolokia.request(requests, {
        method: 'post',
        success: requests.map(function (req) {
          return function (r) { result[req.arguments[1]] = r.value === true; done(); };
        }),
        /* No Karaf security MBean (another runtime): show the actions; the server still decides. */
        error: requests.map(function (req) {
          return function (r) { result[req.arguments[1]] = r.error_type === 'javax.management.InstanceNotFoundException'; done(); };
        })
      });
    }

    ctrl.allowed = function (op) {
      return ctrl.permissions !== null && ctrl.permissions[op] === true;
    };

    ctrl.actions = function (d) {
      return (VALID[d.State] || []).filter(function (op) { return op !== 'setMemory' && ctrl.allowed(op); });
    };

    ctrl.rows = function () {
      var f = (ctrl.filter || '').toLowerCase();
      var rows = ctrl.domains.filter(function (d) {
        return !f || d.Name.toLowerCase().indexOf(f) >= 0 || d.State.indexOf(f) >= 0;
      });
      var key = ctrl.sort;
      rows.sort(function (a, b) {
        var x = a[key], y = b[key];
        var c = x === y ? 0 : (x === null || x === undefined) ? -1 : (y === null || y === undefined) ? 1 : x < y ? -1 : 1;
        return ctrl.reverse ? -c : c;
      });
      return rows;
    };

    ctrl.sortBy = function (key) {
      ctrl.reverse = ctrl.sort === key ? !ctrl.reverse : false;
      ctrl.sort = key;
    };

    ctrl.select = function (name) {
      ctrl.selected = name;
      ctrl.console = '';
      ctrl.xml = '';
      var d = ctrl.byName[name];
      ctrl.setMemMiB = d ? Math.round(d.CurrentMemoryBytes / 1048576) : null;
      detail();
    };

    function exec(name, operation, args, after) {
      ctrl.error = null;
      jolokia.request({type: 'exec', mbean: 'kvmtool:type=Domain,name=' + name, operation: operation, arguments: args || []}, {
        method: 'post',
        success: function () { refresh(); if (after) { after(); } },
        error: failed
      });
    }

    ctrl.invoke = function (name, op) {
      exec(name, op + '()', []);
    };

    ctrl.setMemory = function () {
      exec(ctrl.selected, 'setMemory(long)', [Math.round(ctrl.setMemMiB * 1048576)]);
    };

    ctrl.setAutostart = function () {
      var d = ctrl.byName[ctrl.selected];
      jolokia.request({type: 'write', mbean: 'kvmtool:type=Domain,name=' + d.Name, attribute: 'Autostart', value: d.Autostart},
        {method: 'post', success: refresh, error: failed});
    };

    ctrl.send = function () {
      var text = (ctrl.input || '') + '\r';
      ctrl.input = '';
      exec(ctrl.selected, 'sendConsole(java.lang.String)', [text], detail);
    };

    ctrl.define = function () {
      ctrl.defineError = null;
      jolokia.request({type: 'exec', mbean: MANAGER, operation: 'defineDomain(java.lang.String)', arguments: [ctrl.defineXml || '']}, {
        method: 'post',
        success: function (r) { ctrl.defineOpen = false; ctrl.defineXml = ''; refresh(); ctrl.select(r.value); },
        error: function (r) { ctrl.defineError = r.error; apply(); }
      });
    };

    ctrl.points = function (series) {
      var h = history[ctrl.selected] || [];
      if (h.length < 2) { return ''; }
      var max = series === 'cpu' ? 100 : Math.max(1, (ctrl.byName[ctrl.selected].MaxMemoryBytes || 0) / 1048576);
      return h.map(function (s, i) {
        var x = i * 320 / (HISTORY - 1);
        var y = 78 - Math.min(1, s[series] / max) * 76;
        return x.toFixed(1) + ',' + y.toFixed(1);
      }).join(' ');
    };

    ctrl.historyMinutes = function () { return HISTORY * REFRESH_MS / 60000; };
    ctrl.mib = function (bytes) { return bytes > 0 ? Math.round(bytes / 1048576) : 0; };
    ctrl.stateClass = function (s) {
      return {running: 'label-success', paused: 'label-warning', shutdown: 'label-info', shutoff: 'label-default'}[s] || 'label-default';
    };
    ctrl.uptime = function (s) {
      if (!s || s <= 0) { return '-'; }
      var h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
      return (h ? h + 'h ' : '') + (h || m ? m + 'm ' : '') + sec + 's';
    };

    permissions(null);
    refresh();
    var timer = $interval(refresh, REFRESH_MS);
    $scope.$on('$destroy', function () { $interval.cancel(timer); });
  }
  DashboardController.$inject = ['$scope', '$interval', 'jolokia'];

  angular.module('kvmtool', [])
    .component('kvmtoolDashboard', {template: template, controller: DashboardController})
    .run(['mainNavService', function (mainNavService) {
      mainNavService.addItem({
        title: 'kvmtool',
        basePath: '/kvmtool',
        template: '<kvmtool-dashboard></kvmtool-dashboard>',
        isValid: function () { return true; }
      });
    }]);

  var style = document.createElement('style');
  style.textContent = [
    '.kvmtool-toolbar { display: flex; gap: 8px; align-items: center; margin: 10px 0; }',
    '.kvmtool-filter { max-width: 260px; }',
    '.kvmtool-hypervisor { margin-left: auto; color: #72767b; }',
    '.kvmtool-sortable { cursor: pointer; }',
    '.kvmtool-actions .btn { margin-right: 4px; }',
    '.kvmtool-charts { display: flex; gap: 24px; }',
    '.kvmtool-chart svg { background: #f5f5f5; border: 1px solid #d1d1d1; }',
    '.kvmtool-console { max-height: 260px; overflow: auto; background: #1e1e1e; color: #e0e0e0; white-space: pre-wrap; }',
    '.kvmtool-setmem { display: flex; gap: 8px; align-items: center; margin: 10px 0; }',
    '.kvmtool-setmem input[type=number] { max-width: 120px; }',
    '.kvmtool-xml { max-height: 300px; overflow: auto; }'
  ].join('\n');
  document.head.appendChild(style);

  hawtioPluginLoader.addModule('kvmtool');
})();
