// The kvmtool tab's figures, as pure functions of the plugin script (run: node --test src/test/js).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const f = require(path.join(__dirname, '../../main/webapp/plugin/kvmtool.js'));

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
