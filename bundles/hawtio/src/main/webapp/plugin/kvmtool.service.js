/*
 * kvmtoolService: every Jolokia call of the kvmtool tab, as a promise. It talks only through the `jolokia`
 * client Hawtio injects, so it works the same when Hawtio is connected to another host's manager ("Connect"),
 * and it asks permissions of the JMX security MBean Hawtio's own RBAC plugin chose (`rbacACLMBean`).
 */
(function () {
  'use strict';

  var MANAGER = 'kvmtool:type=Manager';
  var DOMAINS = 'kvmtool:type=Domain,name=*';
  /* What the table needs of every domain; the selected domain is read in full. */
  var ATTRIBUTES = ['Name', 'State', 'StateReason', 'AllowedOperations', 'Pid', 'Vcpus', 'CpuTimeNanos',
    'MemoryUsageBytes', 'MemoryLimitBytes', 'MaxMemoryBytes', 'CurrentMemoryBytes', 'UptimeSeconds', 'Autostart'];
  var MANAGER_ATTRIBUTES = ['Uri', 'HypervisorVersion', 'HypervisorAvailable'];
  /* Operations (and attribute writes, as setX) whose permission is asked, per domain. */
  var DOMAIN_OPERATIONS = ['start', 'shutdown', 'destroy', 'reboot', 'suspend', 'resume', 'setMemory', 'undefine',
    'consoleLog', 'sendConsole', 'dumpXml', 'setAutostart'];
  var CONSOLE_BYTES = 16384;

  function domainMBean(name) {
    return 'kvmtool:type=Domain,name=' + name;
  }

  function KvmtoolService($q, jolokia, rbacACLMBean, figures) {

    function httpError(xhr) {
      return xhr.status ? 'HTTP ' + xhr.status + ' ' + (xhr.statusText || '') : 'no connection';
    }

    /* One Jolokia request; resolves with its value, rejects with the error's words. */
    function call(request) {
      return $q(function (resolve, reject) {
        jolokia.request(request, {
          method: 'post',
          success: function (r) { resolve(r.value); },
          error: function (r) { reject(figures.errorText(r)); },
          ajaxError: function (xhr) { reject(httpError(xhr).trim()); }
        });
      });
    }

    /*
     * The refresh: ONE bulk request holding the pattern read of every domain, the manager and, when a domain
     * is open, its full attributes and (withConsole) the tail of its console. Resolves with {domains (values by
     * object name), domainsError, manager, attributes, console} (null where not asked or not answered);
     * rejects when Jolokia did not answer at all.
     */
    this.refresh = function (selected, withConsole) {
      var requests = [
        {type: 'read', mbean: DOMAINS, attribute: ATTRIBUTES},
        {type: 'read', mbean: MANAGER, attribute: MANAGER_ATTRIBUTES}
      ];
      if (selected) {
        requests.push({type: 'read', mbean: domainMBean(selected)});
        if (withConsole) {
          requests.push({type: 'exec', mbean: domainMBean(selected), operation: 'consoleLog(int)', arguments: [CONSOLE_BYTES]});
        }
      }
      return $q(function (resolve, reject) {
        var result = {domains: {}, domainsError: null, manager: {}, attributes: null, console: null};
        var answers = 0;
        function answered(r, i) {
          var ok = r.status === 200;
          if (i === 0) {
            result.domains = ok ? r.value : {};
            /* no domain at all is "no MBean matched", not an error */
            if (!ok && r.error_type !== 'javax.management.InstanceNotFoundException') {
              result.domainsError = figures.errorText(r);
            }
          } else if (i === 1) {
            result.manager = r.value || {};
          } else if (i === 2) {
            result.attributes = ok ? r.value : {};
          } else if (ok) {
            result.console = r.value;
          }
          if (++answers === requests.length) {
            resolve(result);
          }
        }
        jolokia.request(requests, {
          method: 'post',
          success: answered,
          error: answered,
          ajaxError: function (xhr) { reject('Jolokia did not answer: ' + httpError(xhr)); }
        });
      });
    };

    /* Invokes an operation of a domain ('start()', 'setMemory(long)', ...). */
    this.exec = function (name, operation, args) {
      return call({type: 'exec', mbean: domainMBean(name), operation: operation, arguments: args || []});
    };

    this.write = function (name, attribute, value) {
      return call({type: 'write', mbean: domainMBean(name), attribute: attribute, value: value});
    };

    /* Defines a domain from its XML; resolves with its name. */
    this.define = function (xml) {
      return call({type: 'exec', mbean: MANAGER, operation: 'defineDomain(java.lang.String)', arguments: [xml]});
    };

    /*
     * What the user may do: {'': {defineDomain}, name: {operation: boolean}} for the named domains. Asked as
     * Hawtio's own JMX operations tab asks: canInvoke(Map) of the JMX security MBean its RBAC plugin found
     * (Karaf's, named by the instance; etc/jmx.acl*.cfg decide, per domain). Where Hawtio found none, its
     * client-side RBAC is off and every operation is offered: the server still refuses what it must.
     */
    this.permissions = function (names) {
      var asked = {'': {mbean: MANAGER, operations: ['defineDomain']}};
      names.forEach(function (n) { asked[n] = {mbean: domainMBean(n), operations: DOMAIN_OPERATIONS}; });
      return rbacACLMBean.then(function (acl) {
        if (!acl) {
          return figures.permitAll(asked);
        }
        var question = {};
        Object.keys(asked).forEach(function (key) { question[asked[key].mbean] = asked[key].operations; });
        return call({type: 'exec', mbean: acl, operation: 'canInvoke(java.util.Map)', arguments: [question]})
          .then(function (answer) { return figures.permissionsFrom(answer, asked); });
      });
    };
  }
  KvmtoolService.$inject = ['$q', 'jolokia', 'rbacACLMBean', 'kvmtoolFigures'];

  angular.module('kvmtool-service', ['kvmtool-figures']).service('kvmtoolService', KvmtoolService);
})();
