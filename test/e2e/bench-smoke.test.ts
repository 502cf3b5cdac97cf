// The benchmark tools still run and report what they claim: bench:abi with a tiny N, the
// harness with a very short run of one configuration and of one paired comparison (and
// bench:pool over that run), and the 3-filter configuration's body filter really seeing every
// response chunk without buffering (the "pass-through" the benchmark measures).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sluiceYaml } from '../../bench/configs.ts';
import { REQUEST_HEADERS } from '../../bench/load.ts';
import type { BenchReport } from '../../bench/report.ts';
import { send, startProxy, startUpstream } from '../helpers/proxy.ts';
import { StreamCallback } from '../../src/abi/exports.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const out = mkdtempSync(join(tmpdir(), 'sluice-bench-smoke-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

function runNode(args: string[], timeout: number) {
  const result = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout });
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}

describe('bench:abi', () => {
  it('reports ns per call for every hot host call, both callbacks and each filter lifecycle', () => {
    const report = JSON.parse(runNode(['bench/abi.ts', '--n', '2000', '--rounds', '1', '--json'], 20_000)) as {
      results: Array<{ name: string; ns: number; minNs: number; targetNs: number | null }>;
    };
    expect(report.results.map((r) => r.name.split(' ')[0])).toEqual([
      'proxy_get_log_level',
      'proxy_get_header_map_value',
      'proxy_get_header_map_pairs',
      'proxy_add_header_map_value',
      'proxy_replace_header_map_value',
      'proxy_get_property',
      'proxy_get_buffer_bytes',
      'on_request_headers,',
      'on_request_headers,',
      ...Array<string>(5).fill('stream'),
    ]);
    expect(report.results.slice(-5).map((r) => r.name)).toEqual([
      expect.stringContaining('empty WAT filter'),
      expect.stringContaining('WAT header edit'),
      expect.stringContaining('headers.wasm'),
      expect.stringContaining('auth.wasm'),
      expect.stringContaining('body-rewrite.wasm'),
    ]);
    for (const r of report.results) {
      expect(r.ns).toBeGreaterThan(0);
      expect(r.minNs).toBeLessThanOrEqual(r.ns);
    }
    expect(report.results.map((r) => r.targetNs)).toEqual([null, 150, 150, 150, 150, 150, 150, 1000, null, null, null, null, null, null]);
  }, 30_000);
});

describe('npm run bench', () => {
  it('measures one configuration and writes the JSON report and the chart', () => {
    const stdout = runNode(
      ['bench/run.ts', '--quick', '--only', 'sluice-0', '--out', out, '--duration', '1', '--warmup', '0', '--latency-duration', '0.5', '--rate', '200'],
      40_000,
    );
    expect(stdout).toContain('| sluice-0 |');
    const files = readdirSync(out).sort();
    expect(files).toHaveLength(2);
    expect(files[1]).toBe('latest.svg');
    const report = JSON.parse(readFileSync(join(out, files[0]!), 'utf8')) as BenchReport;
    expect(report.results.map((r) => r.name)).toEqual(['sluice-0']);
    // The build it measured: this checkout's commit, or null where this is no git checkout.
    const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
    if (head.status === 0) expect(report.build?.commit).toBe(head.stdout.trim());
    else expect(report.build).toBeNull();
    const [s0] = report.results;
    expect(s0!.skipped).toBeNull();
    expect(s0!.autocannon!.rounds).toHaveLength(1);
    expect(s0!.autocannon!.rounds[0]!.failed).toBe(0);
    expect(s0!.autocannon!.rps).toBeGreaterThan(0);
    expect(s0!.autocannon!.cpuUsPerReq).toBeGreaterThan(0);
    expect(s0!.latency!.rateRps).toBe(200);
    expect(s0!.latency!.failed).toBe(0);
    expect(s0!.latency!.p99Us).toBeGreaterThanOrEqual(s0!.latency!.p50Us);
    expect(s0!.peakRssMiB).toBeGreaterThan(10);
    expect(s0!.readyMs).toBeGreaterThan(0);
    // Only sluice-0 ran: every target needs another row and is reported as not measured.
    expect(report.targets.length).toBeGreaterThan(0);
    expect(report.targets.every((t) => t.met === null)).toBe(true);
    const svg = readFileSync(join(out, 'latest.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('>sluice-0</text>');
  }, 60_000);

  it('measures a target comparison in back-to-back pairs, alternating the order, and decides the target by them', () => {
    const pairedOut = mkdtempSync(join(tmpdir(), 'sluice-bench-pairs-'));
    try {
      const stdout = runNode(
        ['bench/run.ts', '--quick', '--only', 'undici,sluice-0', '--out', pairedOut, '--duration', '1', '--warmup', '0',
          '--latency-duration', '0.5', '--rate', '200', '--pairs', '2', '--pair-duration', '1'],
        60_000,
      );
      expect(stdout).toContain('Back-to-back pairs (a ÷ b):');
      const json = readdirSync(pairedOut).find((f) => f.endsWith('.json'))!;
      const report = JSON.parse(readFileSync(join(pairedOut, json), 'utf8')) as BenchReport;
      expect(report.paired).toHaveLength(1);
      const [pair] = report.paired!;
      expect([pair!.a, pair!.b, pair!.tool]).toEqual(['sluice-0', 'undici', 'autocannon']);
      expect(pair!.rounds.map((r) => r.first)).toEqual(['a', 'b']);
      for (const r of pair!.rounds) expect(Math.min(r.a.rps, r.b.rps, r.a.cpuUsPerReq, r.b.cpuUsPerReq)).toBeGreaterThan(0);
      expect(pair!.cpuRatio.min).toBeLessThanOrEqual(pair!.cpuRatio.max);
      const target = report.targets.find((t) => t.name === 'sluice-0 CPU ≤ 1.1× minimal undici proxy')!;
      expect(target.met).toBe(pair!.cpuRatio.median <= 1.1);
      expect(target.detail).toMatch(/^paired: .*median of 2 back-to-back pairs of 1 s autocannon rounds/);

      // bench:pool over that one run gives the same verdict from the same pairs, and a window
      // with no run in it is an error, not an empty verdict.
      const pooled = runNode(['bench/pool.ts', '--since', '2020-01-01T00:00Z', '--dir', pairedOut], 10_000);
      expect(pooled).toContain('1 run of npm run bench, pooled:');
      expect(pooled).toContain(`- ${target.met ? 'met' : 'MISSED'}: sluice-0 CPU ≤ 1.1× minimal undici proxy — paired: `);
      expect(pooled).toContain('median of 2 back-to-back pairs of 1 s autocannon rounds');
      const none = spawnSync(process.execPath, ['bench/pool.ts', '--since', '2999-01-01T00:00Z', '--dir', pairedOut], { cwd: ROOT, encoding: 'utf8' });
      expect(none.status).toBe(1);
      expect(none.stderr).toMatch(/^bench:pool: no run of npm run bench in .* ended between 2999-01-01T00:00:00.000Z and /);
      // A report it cannot read is named, not a stack trace.
      const broken = join(pairedOut, '2020-06-01T00-00-00-000Z.json');
      writeFileSync(broken, '{"date": "2020-06-01T00:00:00.000Z", "results": [');
      const unreadable = spawnSync(process.execPath, ['bench/pool.ts', '--since', '2020-01-01T00:00Z', '--dir', pairedOut], { cwd: ROOT, encoding: 'utf8' });
      expect(unreadable.status).toBe(1);
      expect(unreadable.stderr.startsWith(`bench:pool: ${broken}: `)).toBe(true);
      expect(unreadable.stderr).toContain('JSON');
      // Reports outside the window are not read at all (their names say when they were written).
      const since = new Date(Date.parse(report.date) - 60_000).toISOString();
      expect(runNode(['bench/pool.ts', '--since', since, '--dir', pairedOut], 10_000)).toContain('1 run of npm run bench, pooled:');
    } finally {
      rmSync(pairedOut, { recursive: true, force: true });
    }
  }, 90_000);
});

describe('the 3-filter benchmark configuration', () => {
  it('calls the body filter once per response chunk, with that chunk only (no buffering)', async () => {
    const chunks = ['{"part":1}', '{"part":2,"more":true}', '{"end":3}'];
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked: no content-length
      const pieces = [...chunks];
      const next = () => {
        const piece = pieces.shift();
        if (piece === undefined) return res.end();
        res.write(piece);
        setTimeout(next, 20);
      };
      next();
    });
    const proxy = await startProxy(sluiceYaml({ port: 0, upstreamPort: upstream.port, filters: 3, logLevel: 'warn' }));
    try {
      const vm = proxy.sluice.plugins.get('body')!.vm;
      const original = vm.exports.proxy_on_response_body!;
      const calls: Array<[size: number, eos: number]> = [];
      // The stream driver calls stream callbacks through this table.
      vm.exports.streamCallbacks[StreamCallback.RESPONSE_BODY] = (ctx: number, size: number, eos: number) => {
        calls.push([size, eos]);
        return original(ctx, size, eos);
      };
      const res = await send(`${proxy.url()}/`, { headers: Object.entries(REQUEST_HEADERS) });
      expect(res.status).toBe(200);
      expect(res.body).toBe(chunks.join(''));
      expect(res.header('x-proxy')).toBe('sluice'); // the headers filter ran too
      // One call per chunk with that chunk's size (a buffering filter would see growing totals),
      // then the empty end-of-stream call of a chunked body.
      expect(calls).toEqual([...chunks.map((c): [number, number] => [c.length, 0]), [0, 1]]);
    } finally {
      await proxy.close();
      await upstream.close();
    }
  });
});
