/*
 * <kvmtool-terminal domain="name">: the domain's console in xterm.js (plugin/vendor/xterm.js, from the npm
 * registry at build time), attached over the bundle's WebSocket /kvmtool/console/NAME. It first asks Hawtio's
 * Jolokia for a one-time ticket (kvmtool:type=WebConsole), which proves who the logged-in user is to the
 * WebSocket without a password; the server then asks Karaf's JMX ACL whether that user may use the console.
 * The server sends the console's last 16 KiB, then its output as it comes; every key goes to the guest at once.
 * One interactive session per guest, as with virsh console: when another holds it, "Take over" attaches with
 * force, and the session it displaces is told and detached. Leaving the page (or the tab) detaches.
 */
(function () {
  'use strict';

  var NOTICE = '\x1b[33m';   /* the bar's words, repeated in the terminal itself, in yellow */
  var PLAIN = '\x1b[0m';

  function terminalDirective(kvmtool, figures, context, $window) {
    return {
      restrict: 'E',
      scope: {domain: '<'},
      template:
        '<div class="kvmtool-terminal" data-status="{{status}}">' +
        '  <div class="kvmtool-terminal-bar">' +
        '    <span class="kvmtool-terminal-status">{{text}}</span>' +
        '    <button type="button" class="btn btn-xs btn-default kvmtool-terminal-attach" ng-if="status !== \'attached\' && status !== \'connecting\'" ng-click="connect(false)">Attach</button>' +
        '    <button type="button" class="btn btn-xs btn-warning kvmtool-terminal-force" ng-if="status === \'in-use\' || status === \'taken\'" ng-click="connect(true)">Take over</button>' +
        '    <button type="button" class="btn btn-xs btn-default kvmtool-terminal-detach" ng-if="status === \'attached\'" ng-click="detach()">Detach</button>' +
        '  </div>' +
        '  <div class="kvmtool-terminal-screen"></div>' +
        '</div>',
      link: function (scope, element) {
        var term = new $window.Terminal({
          cursorBlink: true, fontSize: 13, rows: 24, cols: 100, scrollback: 5000,
          /* lkvm's own lines reach the raw pty with bare LFs: each starts at the left, as a guest's CRLF do */
          convertEol: true
        });
        var encoder = new $window.TextEncoder();
        var socket = null;
        term.open(element[0].querySelector('.kvmtool-terminal-screen'));
        term.onData(function (keys) {
          if (socket && socket.readyState === $window.WebSocket.OPEN) {
            socket.send(encoder.encode(keys));
          }
        });

        function show(status, text) {
          scope.status = status;
          scope.text = text;
        }

        function note(text) {
          term.write('\r\n' + NOTICE + '[kvmtool] ' + text + PLAIN + '\r\n');
        }

        /* Forgets the socket without reporting its end (a new attach replaces it, or the page goes). */
        function drop(code, why) {
          var s = socket;
          socket = null;
          if (s) {
            s.onclose = null;
            s.onmessage = null;
            s.close(code, why);
          }
        }

        scope.connect = function (force) {
          drop(1000, 'attaching again');
          var name = scope.domain;
          show('connecting', (force ? 'Taking over' : 'Attaching to') + ' the console of ' + name + '...');
          kvmtool.consoleTicket(name).then(function (ticket) {
            if (name !== scope.domain) {
              return;
            }
            var s = socket = new $window.WebSocket(figures.consoleUrl($window.location, context, name, ticket, force));
            s.binaryType = 'arraybuffer';
            s.onopen = function () {
              term.reset();   /* the server sends the history first: the screen starts over */
              term.focus();
              scope.$applyAsync(function () { show('attached', 'Attached to the console of ' + name + '.'); });
            };
            s.onmessage = function (e) {
              if (typeof e.data === 'string') {
                note(e.data);
              } else {
                term.write(new Uint8Array(e.data));
              }
            };
            s.onclose = function (e) {
              if (socket !== s) {
                return;
              }
              socket = null;
              var end = figures.consoleEnd(e.code, e.reason);
              note(end.text);
              scope.$applyAsync(function () { show(end.status, end.text); });
            };
          }, function (text) {
            show('failed', 'No console ticket: ' + text);
          });
        };

        scope.detach = function () {
          if (socket) {
            socket.close(1000, 'detached');
          }
        };

        scope.$watch('domain', function (name) {
          if (name) {
            scope.connect(false);
          }
        });

        scope.$on('$destroy', function () {
          drop(1000, 'the page went away');
          term.dispose();
        });
      }
    };
  }
  terminalDirective.$inject = ['kvmtoolService', 'kvmtoolFigures', 'kvmtoolContext', '$window'];

  angular.module('kvmtool-terminal', ['kvmtool-figures', 'kvmtool-service'])
    .directive('kvmtoolTerminal', terminalDirective);
})();
