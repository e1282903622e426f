// The kvmtool tab's pure functions, plugin/kvmtool.figures.js (run: node --test src/test/js).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const f = require(path.join(__dirname, '../../main/webapp/plugin/kvmtool.figures.js'));

const MIB = 1048576;

function running(pid, cpu) {
  return {State: 'running', Pid: pid, CpuTimeNanos: cpu};
}

test('the first reading of a run only primes the CPU rate', () => {
  const first = f.cpuReading(running(100, 5e9), 1000);   // 5 s of CPU used before we looked
  assert.strictEqual(f.cpuPercent(undefined, first), null);
  const second = f.cpuReading(running(100, 5e9 + 1e9), 3000);   // 1 s of CPU in 2 s
  assert.strictEqual(f.cpuPercent(first, second), 50);
});

test('a shut off domain or one without a cgroup figure has no reading, so the next start primes again', () => {
  assert.strictEqual(f.cpuReading({State: 'shutoff', Pid: -1, CpuTimeNanos: 0}, 1000), null);
  assert.strictEqual(f.cpuReading(running(100, 0), 1000), null);
  assert.strictEqual(f.cpuReading(running(100, -1), 1000), null);
});

test('refreshes across a start: no spike from the boot\'s CPU counted against the shut off zero', () => {
  let prev;
  const percents = [];
  for (const [d, t] of [[{State: 'shutoff', Pid: -1, CpuTimeNanos: 0}, 0], [running(101, 3e9), 2000],
    [running(101, 3.5e9), 4000], [{State: 'shutoff', Pid: -1, CpuTimeNanos: 0}, 6000], [running(102, 4e9), 8000]]) {
    const step = f.cpuStep(prev, d, t);
    percents.push(step.percent);
    prev = step.prev;
  }
  assert.deepStrictEqual(percents, [null, null, 25, null, null]);
});

test('a counter reset re-primes: the guest restarted (another pid, or a smaller count)', () => {
  const before = f.cpuReading(running(100, 9e9), 1000);
  const otherPid = f.cpuReading(running(200, 9.5e9), 3000);
  assert.strictEqual(f.cpuPercent(before, otherPid), null, 'a new lkvm, even with a larger count');
  const smaller = f.cpuReading(running(100, 1e9), 3000);
  assert.strictEqual(f.cpuPercent(before, smaller), null, 'never a negative rate');
  const next = f.cpuReading(running(100, 1e9 + 2e8), 5000);
  assert.ok(Math.abs(f.cpuPercent(smaller, next) - 10) < 1e-9, 'the reading after the reset measures again');
});

test('no rate over an interval that is not positive', () => {
  const a = f.cpuReading(running(100, 1e9), 1000);
  const b = f.cpuReading(running(100, 2e9), 1000);
  assert.strictEqual(f.cpuPercent(a, b), null);
});

test('the memory chart is scaled to the cgroup limit, else to what it must hold', () => {
  assert.strictEqual(f.memoryScaleMiB(256 * MIB, 64 * MIB, 90), 256);
  assert.strictEqual(f.memoryScaleMiB(-1, 64 * MIB, 10), 64, 'no limit: the guest RAM');
  assert.strictEqual(f.memoryScaleMiB(-1, 64 * MIB, 71.3), 72, 'usage above the guest RAM (lkvm\'s own) is not cut off');
  assert.strictEqual(f.memoryScaleMiB(undefined, undefined, 0), 1);
});

test('the host memory cell: the cgroup usage, against its limit when set', () => {
  assert.strictEqual(f.usageText(70 * MIB, -1), '70 MiB');
  assert.strictEqual(f.usageText(70 * MIB, 128 * MIB), '70 / 128 MiB limit');
  assert.strictEqual(f.usageText(0, 128 * MIB), '-');
});

test('the CPU chart\'s scale: whole decades, at least 10 %', () => {
  assert.strictEqual(f.cpuScale(0), 10);
  assert.strictEqual(f.cpuScale(10), 10);
  assert.strictEqual(f.cpuScale(10.1), 20);
  assert.strictEqual(f.cpuScale(183), 190);
});

test('chart points: the newest sample at the right edge, a sample without a value left out', () => {
  const size = {w: 100, h: 54};
  const samples = [{t: 0, cpu: null}, {t: 500, cpu: 0}, {t: 1000, cpu: 50}];
  assert.strictEqual(f.chartPoints(samples, 'cpu', 100, 1000, size), '50.0,52.0 100.0,27.0');
  assert.strictEqual(f.chartPoints([{t: 0, cpu: 5}], 'cpu', 100, 1000, size), '', 'one sample draws no line');
  assert.strictEqual(f.chartPoints([{t: 0, cpu: 500}, {t: 1, cpu: 500}], 'cpu', 100, 1, size), '0.0,2.0 100.0,2.0',
    'above the scale: drawn at the top');
});

test('uptime as the table shows it', () => {
  assert.strictEqual(f.uptimeText(-1), '-');
  assert.strictEqual(f.uptimeText(0), '-');
  assert.strictEqual(f.uptimeText(59), '59s');
  assert.strictEqual(f.uptimeText(3601), '1h 0m 1s');
});

test('the row buttons: what AllowedOperations names and the user may invoke, in a fixed order', () => {
  const all = () => true;
  const running = {Name: 'a', State: 'running',
    AllowedOperations: ['destroy', 'suspend', 'reboot', 'shutdown', 'setMemory', 'sendConsole', 'memoryStats']};
  assert.deepStrictEqual(f.rowActions(running, all), ['shutdown', 'reboot', 'suspend', 'destroy'],
    'only row operations, in the row\'s order, whatever the order of the attribute');
  assert.deepStrictEqual(f.rowActions({AllowedOperations: ['start', 'undefine', 'setMemory']}, all), ['start', 'undefine']);
  assert.deepStrictEqual(f.rowActions(running, (op) => op !== 'destroy'), ['shutdown', 'reboot', 'suspend'],
    'the user\'s permission filters as well');
  assert.deepStrictEqual(f.rowActions(running, () => false), [], 'a viewer: none');
  assert.ok(f.stateAllows(running, 'sendConsole'));
  assert.ok(!f.stateAllows(running, 'start'));
});

test('a domain without AllowedOperations (an older manager) offers no state action at all', () => {
  const old = {Name: 'a', State: 'shutoff'};
  assert.deepStrictEqual(f.rowActions(old, () => true), []);
  assert.ok(!f.stateAllows(old, 'setMemory'));
  assert.ok(!f.stateAllows({AllowedOperations: null}, 'start'));
  assert.ok(!f.stateAllows({AllowedOperations: 'start'}, 'start'), 'not a list: nothing');
  assert.ok(!f.stateAllows(undefined, 'start'), 'a domain not (yet) in the table');
});

test('Karaf\'s canInvoke answer as permissions; what it leaves out is not permitted', () => {
  const asked = {
    '': {mbean: 'kvmtool:type=Manager', operations: ['defineDomain']},
    alpha: {mbean: 'kvmtool:type=Domain,name=alpha', operations: ['start', 'dumpXml', 'destroy']},
  };
  const answer = {
    'kvmtool:type=Manager': {defineDomain: {CanInvoke: false, Method: 'defineDomain', ObjectName: 'kvmtool:type=Manager'}},
    'kvmtool:type=Domain,name=alpha': {start: {CanInvoke: true}, dumpXml: {CanInvoke: false}},
  };
  assert.deepStrictEqual(f.permissionsFrom(answer, asked),
    {'': {defineDomain: false}, alpha: {start: true, dumpXml: false, destroy: false}});
  assert.deepStrictEqual(f.permissionsFrom(null, asked),
    {'': {defineDomain: false}, alpha: {start: false, dumpXml: false, destroy: false}}, 'no answer: nothing');
  assert.deepStrictEqual(f.permitAll(asked),
    {'': {defineDomain: true}, alpha: {start: true, dumpXml: true, destroy: true}}, 'no client-side RBAC: all offered');
});

test('errors: the words after the Java class; a definition error points at its line', () => {
  assert.strictEqual(f.errorText({error: 'java.lang.IllegalStateException : [OPERATION_INVALID] domain is not running'}),
    '[OPERATION_INVALID] domain is not running');
  assert.strictEqual(f.errorText({statusText: 'Forbidden'}), 'Forbidden');
  const xml = '<domain>\n  <name>g</name>\n  <floppy/>\n</domain>';
  assert.deepStrictEqual(f.defineError('[XML_ERROR] unsupported element (line 3:3): floppy', xml),
    {text: '[XML_ERROR] unsupported element (line 3:3): floppy', line: 3, source: '  <floppy/>'});
  assert.deepStrictEqual(f.defineError('no line here', xml), {text: 'no line here', line: null, source: undefined});
  assert.strictEqual(f.defineError('(line 9:1)', xml).line, null, 'a line past the text is not shown');
});

test('the table: filtered by name or state, sorted by a column then by name, reversible', () => {
  const domains = [{Name: 'beta', State: 'shutoff', Vcpus: 1}, {Name: 'alpha', State: 'running', Vcpus: 2},
    {Name: 'gamma', State: 'running', Vcpus: 1}];
  const names = (rows) => rows.map((d) => d.Name);
  assert.deepStrictEqual(names(f.tableRows(domains, '', 'Name', false)), ['alpha', 'beta', 'gamma']);
  assert.deepStrictEqual(names(f.tableRows(domains, '', 'Name', true)), ['gamma', 'beta', 'alpha']);
  assert.deepStrictEqual(names(f.tableRows(domains, '', 'Vcpus', false)), ['beta', 'gamma', 'alpha']);
  assert.deepStrictEqual(names(f.tableRows(domains, 'RUN', 'Name', false)), ['alpha', 'gamma'], 'the state matches too');
  assert.deepStrictEqual(names(f.tableRows(domains, 'et', 'Name', false)), ['beta']);
  assert.deepStrictEqual(names(domains), ['beta', 'alpha', 'gamma'], 'the list itself is left as it was');
});
