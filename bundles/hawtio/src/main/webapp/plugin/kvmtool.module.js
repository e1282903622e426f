/*
 * The kvmtool tab for Hawtio 2: the module `kvmtool`, which Hawtio's plugin loader bootstraps with its own.
 * Hawtio loads the scripts HawtioPlugin.getScripts() names (kvmtool.figures.js, kvmtool.service.js,
 * dashboard.component.js, this file) from this bundle's web context; each registers a module of its own, so
 * their order does not matter. Plain AngularJS, as hawtio-core loads it: no build.
 */
(function () {
  'use strict';

  /* This bundle's web context, as the plugin MBean (hawtio:type=plugin,name=kvmtool) told Hawtio's loader. */
  var base = hawtioPluginLoader.getPlugins().kvmtool.Context + '/plugin/';

  function addTab(mainNavService, workspace) {
    mainNavService.addItem({
      title: 'kvmtool',
      basePath: '/kvmtool',
      template: '<kvmtool-dashboard></kvmtool-dashboard>',
      /* shown where the connected JVM runs a kvmtool manager (locally or through "Connect") */
      isValid: function () { return workspace.treeContainsDomainAndProperties('kvmtool'); }
    });
  }
  addTab.$inject = ['mainNavService', 'workspace'];

  angular.module('kvmtool', ['kvmtool-dashboard'])
    .constant('kvmtoolBase', base)
    .run(addTab);

  var style = document.createElement('link');
  style.rel = 'stylesheet';
  style.href = base + 'kvmtool.css';
  document.head.appendChild(style);

  hawtioPluginLoader.addModule('kvmtool');
})();
