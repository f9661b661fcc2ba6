import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RotatingFile } from '../../src/logs/rotating-file';

const dirs: string[] = [];
function tmpFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ase-log-'));
  dirs.push(dir);
  return path.join(dir, 'logs', 'access.log');
}
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const read = (f: string): string[] => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').filter(Boolean) : []);

describe('RotatingFile', () => {
  test('appends lines, creating the folder, and keeps what an earlier process wrote', async () => {
    const file = tmpFile();
    const a = new RotatingFile(file);
    a.write('one');
    await a.close();
    const b = new RotatingFile(file);
    b.write('two');
    await b.close();
    expect(read(file)).toEqual(['one', 'two']);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  test('rotates by size, keeps `keep` old files, deletes the oldest, and loses no line in between', async () => {
    const file = tmpFile();
    const log = new RotatingFile(file, { maxBytes: 100, keep: 2 });
    const lines = Array.from({ length: 40 }, (_, i) => `line-${String(i).padStart(3, '0')}`); // 9 bytes + newline
    for (const l of lines) log.write(l);
    await log.close();
    const files = fs.readdirSync(path.dirname(file)).sort();
    expect(files).toEqual(['access.log', 'access.log.1', 'access.log.2']);
    for (const f of files) expect(fs.statSync(path.join(path.dirname(file), f)).size).toBeLessThanOrEqual(100 + 10 * 10);
    // Old files hold older lines, in order; the newest lines are in the current file.
    const kept = [...read(`${file}.2`), ...read(`${file}.1`), ...read(file)];
    expect(kept.length).toBeGreaterThan(0);
    expect(kept).toEqual(lines.slice(lines.length - kept.length));
  });

  test('while the disk is behind, lines beyond the buffer limit are dropped and the count is logged', async () => {
    const file = tmpFile();
    const log = new RotatingFile(file, { maxBufferedBytes: 1000 });
    let written = 0;
    for (let i = 0; i < 10_000; i++) if (log.write(`x-${i}-${'y'.repeat(50)}`)) written++;
    expect(written).toBeLessThan(10_000);
    expect(log.droppedLines).toBe(10_000 - written);
    // The disk catches up (polled: on a busy machine 50 ms was not always enough).
    while (log.bufferedBytes > 0) await new Promise((r) => setTimeout(r, 10));
    log.write('after');
    await log.close();
    const lines = read(file);
    expect(lines).toHaveLength(written + 2);
    expect(lines.at(-2)).toMatch(new RegExp(`\\[type:log\\] \\[dropped:${10_000 - written}\\]`));
    expect(lines.at(-1)).toBe('after');
  });
});
