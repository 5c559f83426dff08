// The replay CLI's flags and the pacing arithmetic, without a process or a clock.
import { describe, expect, it } from 'vitest';
import { parseReplayArgs, UsageError } from '../../server/replay/cli-args.js';
import { delayBefore } from '../../server/replay/playback.js';

function usageError(argv: string[]): string {
  try {
    parseReplayArgs(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${argv.join(' ')}`);
}

describe('replay arguments', () => {
  it('parses --verify with a dir', () => {
    expect(parseReplayArgs(['data', '--verify'])).toEqual({ mode: 'verify', dir: 'data', marketsFile: null });
    expect(parseReplayArgs(['--verify', 'data', '--markets', 'm.json'])).toEqual({ mode: 'verify', dir: 'data', marketsFile: 'm.json' });
  });

  it('parses --serve with its defaults and every option', () => {
    expect(parseReplayArgs(['data', '--serve'])).toEqual({
      mode: 'serve',
      dir: 'data',
      marketsFile: null,
      host: '127.0.0.1',
      port: 9001,
      speed: 1,
      from: null,
      to: null,
      waitSubs: 0,
    });
    expect(
      parseReplayArgs([
        'data',
        '--serve',
        '--port',
        '0',
        '--host',
        '0.0.0.0',
        '--speed',
        'max',
        '--from',
        '10',
        '--to',
        '20',
        '--wait-subs',
        '3',
      ]),
    ).toMatchObject({
      port: 0,
      host: '0.0.0.0',
      speed: 'max',
      from: { seq: 10 },
      to: { seq: 20 },
      waitSubs: 3,
    });
    expect(
      parseReplayArgs(['data', '--serve', '--speed', '10', '--from-time', '2026-01-02T03:04:05.006Z', '--to-time', '1767323045999']),
    ).toMatchObject({
      speed: 10,
      from: { time: Date.UTC(2026, 0, 2, 3, 4, 5, 6) },
      to: { time: 1767323045999 },
    });
    expect(parseReplayArgs(['--help'])).toEqual({ mode: 'help' });
    expect(parseReplayArgs(['-h', 'data', '--serve'])).toEqual({ mode: 'help' });
  });

  it('refuses every malformed command line with a message that names the problem', () => {
    expect(usageError(['data'])).toContain('exactly one of --verify or --serve');
    expect(usageError(['data', '--verify', '--serve'])).toContain('exactly one of --verify or --serve');
    expect(usageError(['--verify'])).toContain('exactly one session dir');
    expect(usageError(['a', 'b', '--verify'])).toContain('exactly one session dir');
    expect(usageError(['data', '--verify', '--frobnicate'])).toBe('unknown option --frobnicate');
    expect(usageError(['data', '--verify', '--speed', 'max'])).toBe('--speed applies to --serve only');
    expect(usageError(['data', '--serve', '--speed', 'fast'])).toContain('--speed');
    expect(usageError(['data', '--serve', '--speed', '0'])).toContain('--speed');
    expect(usageError(['data', '--serve', '--speed', '-1'])).toContain('--speed');
    expect(usageError(['data', '--serve', '--port', '70000'])).toContain('--port');
    expect(usageError(['data', '--serve', '--port', '1.5'])).toContain('--port');
    expect(usageError(['data', '--serve', '--from', '0'])).toContain('--from');
    expect(usageError(['data', '--serve', '--from', '1e3'])).toContain('--from');
    expect(usageError(['data', '--serve', '--from', '9', '--to', '3'])).toBe('--to is before --from');
    expect(usageError(['data', '--serve', '--to', '9', '--to-time', '3'])).toBe('give --to or --to-time, not both');
    expect(usageError(['data', '--serve', '--from-time', 'yesterday'])).toContain('--from-time');
    expect(usageError(['data', '--serve', '--wait-subs', '-2'])).toContain('--wait-subs');
    expect(usageError(['data', '--serve', '--port'])).toContain('--port');
  });
});

describe('pacing', () => {
  it('waits the gap between command timestamps divided by the speed, minus the time already spent', () => {
    expect(delayBefore(1_000, 1_000, 0, 1)).toBe(0);
    expect(delayBefore(1_500, 1_000, 0, 1)).toBe(500);
    expect(delayBefore(1_500, 1_000, 200, 1)).toBe(300);
    expect(delayBefore(1_500, 1_000, 0, 10)).toBe(50);
    // Behind schedule: go at once rather than wait a negative time.
    expect(delayBefore(1_500, 1_000, 900, 1)).toBe(0);
  });
});
