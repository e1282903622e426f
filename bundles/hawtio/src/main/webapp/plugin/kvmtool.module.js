/*
 * The kvmtool tab for Hawtio 2: the module `kvmtool`, which Hawtio's plugin loader bootstraps with its own.
 * Hawtio loads the scripts HawtioPlugin.getScripts() names (vendor/xterm.js, kvmtool.figures.js,
 * kvmtool.service.js, kvmtool.terminal.js, dashboard.component.js, this file) from this bundle's web context;
 * each of ours registers a module of its own, so their order does not matter. Plain AngularJS, as hawtio-core
 * loads it; xterm.js comes from the npm registry at build time (bundles/hawtio/package-lock.json).
 */
(function () {
  'use strict';

  /* This bundle's web context, as the plugin MBean (hawtio:type=plugin,name=kvmtool) told Hawtio's loader. */
  var context = hawtioPluginLoader.getPlugins().kvmtool.Context;
  var base = context + '/plugin/';

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
    .constant('kvmtoolContext', context)
    .run(addTab);

  /* xterm.js's own style (plugin/vendor/xterm.css, from the npm registry with xterm.js), then ours */
  ['vendor/xterm.css', 'kvmtool.css'].forEach(function (file) {
    var style = document.createElement('link');
    style.rel = 'stylesheet';
    style.href = base + file;
    document.head.appendChild(style);
  });

  hawtioPluginLoader.addModule('kvmtool');
})();
