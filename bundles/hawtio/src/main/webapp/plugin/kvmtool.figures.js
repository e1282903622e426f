/*
 * The kvmtool tab's pure functions: the CPU % rate, the memory and chart figures, the row buttons and the
 * texts the table shows. No Jolokia and no AngularJS in here, so node tests them (src/test/js); in the page they
 * are the constant `kvmtoolFigures` of the module `kvmtool-figures`.
 */
(function () {
  'use strict';

  var MIB = 1048576;

  /*
   * The row buttons, in the order they are shown. Which of them a domain offers now is its MBean's
   * AllowedOperations (the driver's own list for its state); which the user may press is Karaf's answer.
   */
  var ROW_OPERATIONS = ['start', 'shutdown', 'reboot', 'suspend', 'resume', 'destroy', 'undefine'];

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

  /* The top of the CPU chart: whole decades of percent, at least 10 %, so a small load stays visible. */
  function cpuScale(peakPercent) {
    return Math.max(10, Math.ceil(peakPercent / 10) * 10);
  }

  /*
   * A chart's polyline points for the samples [{t, cpu, mem}] of one domain: the newest at the right edge,
   * `span` ms across, values scaled to `max`; samples without a value (null: no rate yet) are left out.
   */
  function chartPoints(samples, series, max, span, size) {
    if (samples.length < 2) {
      return '';
    }
    var end = samples[samples.length - 1].t;
    return samples.filter(function (s) { return s[series] !== null; }).map(function (s) {
      var x = size.w - (end - s.t) / span * size.w;
      var y = size.h - 2 - Math.min(1, s[series] / max) * (size.h - 4);
      return x.toFixed(1) + ',' + y.toFixed(1);
    }).join(' ');
  }

  /* The host's memory for a domain, as the table shows it: the cgroup's usage, against its limit when set. */
  function usageText(usageBytes, limitBytes) {
    if (!(usageBytes > 0)) {
      return '-';
    }
    var used = Math.round(usageBytes / MIB);
    return limitBytes > 0 ? used + ' / ' + Math.round(limitBytes / MIB) + ' MiB limit' : used + ' MiB';
  }

  function uptimeText(s) {
    if (!s || s <= 0) {
      return '-';
    }
    var h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
    return (h ? h + 'h ' : '') + (h || m ? m + 'm ' : '') + sec + 's';
  }

  /*
   * Whether the domain's state allows the operation now: its AllowedOperations names it. A manager without
   * that attribute (or a read that left it out) allows nothing, rather than the page guessing from the state.
   */
  function stateAllows(d, op) {
    return !!d && Array.isArray(d.AllowedOperations) && d.AllowedOperations.indexOf(op) >= 0;
  }

  /* The buttons of a domain's row: allowed by its state and permitted(op) for the user. */
  function rowActions(d, permitted) {
    return ROW_OPERATIONS.filter(function (op) { return stateAllows(d, op) && permitted(op); });
  }

  /*
   * Karaf's answer to canInvoke(Map) ({objectName: {operation: {CanInvoke}}}) as {key: {operation: boolean}}
   * for the questions asked ({key: {mbean, operations}}). What the answer leaves out is not permitted.
   */
  function permissionsFrom(answer, asked) {
    var out = {};
    Object.keys(asked).forEach(function (key) {
      var ops = (answer && answer[asked[key].mbean]) || {};
      out[key] = {};
      asked[key].operations.forEach(function (op) { out[key][op] = !!(ops[op] && ops[op].CanInvoke); });
    });
    return out;
  }

  /* Every operation asked, permitted: what the page shows where Hawtio runs without client-side RBAC. */
  function permitAll(asked) {
    var out = {};
    Object.keys(asked).forEach(function (key) {
      out[key] = {};
      asked[key].operations.forEach(function (op) { out[key][op] = true; });
    });
    return out;
  }

  /* "java.lang.IllegalStateException : [OPERATION_INVALID] domain is not running" -> the words after the class. */
  function errorText(response) {
    var text = (response && (response.error || response.statusText)) || String(response);
    return text.replace(/^[\w.$]+(Exception|Error)\s*:\s*/, '');
  }

  /* A refused definition: the codec says where ("... (line 4:1): ..."), so show that line of the text as well. */
  function defineError(text, xml) {
    var m = /line (\d+)/.exec(text);
    var line = m ? parseInt(m[1], 10) : 0;
    var source = line ? xml.split('\n')[line - 1] : undefined;
    return {text: text, line: source === undefined ? null : line, source: source};
  }

  /* The table's rows: those whose name or state holds the filter, sorted by key (then by name), maybe reversed. */
  function tableRows(domains, filter, key, reverse) {
    var f = (filter || '').toLowerCase();
    var rows = domains.filter(function (d) {
      return !f || d.Name.toLowerCase().indexOf(f) >= 0 || String(d.State).indexOf(f) >= 0;
    });
    rows.sort(function (a, b) {
      var x = a[key], y = b[key];
      var c = x === y ? 0 : (x === null || x === undefined) ? -1 : (y === null || y === undefined) ? 1 : x < y ? -1 : 1;
      if (c === 0 && key !== 'Name') {
        c = a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0;
      }
      return reverse ? -c : c;
    });
    return rows;
  }

  var figures = {
    MIB: MIB, ROW_OPERATIONS: ROW_OPERATIONS, cpuReading: cpuReading, cpuPercent: cpuPercent, cpuStep: cpuStep,
    memoryScaleMiB: memoryScaleMiB, cpuScale: cpuScale, chartPoints: chartPoints, usageText: usageText,
    uptimeText: uptimeText, stateAllows: stateAllows, rowActions: rowActions, permissionsFrom: permissionsFrom,
    permitAll: permitAll, errorText: errorText, defineError: defineError, tableRows: tableRows
  };

  if (typeof module === 'object' && module.exports) {
    module.exports = figures;   /* under node: the tests */
  } else {
    angular.module('kvmtool-figures', []).constant('kvmtoolFigures', figures);
  }
})();
