import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli';
import { facesCsvHeader, parseFacesCsv } from '../src/csv';
import { AAF_PRESENT, AAF_RAW } from './aaf';

let dir: string;
const run = async (...argv: string[]) => {
  const lines: string[] = [];
  const code = await main(argv, (l) => lines.push(l));
  return { code, text: lines.join('\n') };
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'face-prep-cli-'));
  await sharp({ create: { width: 100, height: 80, channels: 3, background: '#808080' } }).jpeg().toFile(join(dir, 'grey.jpg'));
  writeFileSync(join(dir, 'bad.jpg'), 'not an image');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ldl prep arguments', () => {
  it('names the missing or bad argument', async () => {
    expect(await run('align', '--images', dir)).toMatchObject({ code: 2, text: expect.stringContaining('align: --out is required.') });
    expect(await run('crop', '--csv', 'x', '--images', dir, '--out', dir, '--margin', 'abc')).toMatchObject({
      code: 2,
      text: expect.stringContaining("--margin must be a number >= 0, but got 'abc'."),
    });
    expect(await run('align', '--images', dir, '--out', 'x', '--workers', '1.5')).toMatchObject({
      code: 2,
      text: expect.stringContaining("--workers must be an integer >= 0, but got '1.5'."),
    });
    expect(await run('align', '--images', dir, '--out', 'x', '--bogus')).toMatchObject({ code: 2, text: expect.stringContaining("'--bogus'") });
    expect(await run('resize')).toMatchObject({ code: 2, text: expect.stringContaining("unknown command 'resize'") });
  });
});

describe('ldl prep crop', () => {
  it('rotates, expands and crops the ok rows, skipping the others', async () => {
    const csv = join(dir, 'faces.csv');
    writeFileSync(csv, `${facesCsvHeader()}grey.jpg,10,20,15,70,60,30,30,60,35,ok\nbad.jpg,,,,,,,,,,unreadable\n`);
    const out = join(dir, 'crops');
    const { code, text } = await run('crop', '--csv', csv, '--images', dir, '--out', out, '--margin', '0.2', '--size', '32');
    expect(code).toBe(0);
    expect(text).toContain('crop: 2 rows: 1 written, 0 already there, 1 not aligned (skipped), 0 errors');
    expect(await sharp(join(out, 'grey.jpg')).metadata()).toMatchObject({ width: 32, height: 32 });
    expect(existsSync(join(out, 'bad.jpg'))).toBe(false);
  });
});

describe.skipIf(!AAF_PRESENT)('ldl prep align on real photos (2 worker threads)', () => {
  it('aligns, appends rows and resumes', async () => {
    const list = join(dir, 'list.txt');
    writeFileSync(list, '00004A02.jpg\n00020A02.jpg\n');
    const out = join(dir, 'aaf.csv');
    const first = await run('align', '--images', `${AAF_RAW}/images`, '--list', list, '--out', out, '--workers', '2');
    expect(first.code).toBe(0);
    expect(first.text).toContain('2 ok, 0 no_face, 0 unreadable, 0 errors');
    const rows = parseFacesCsv(readFileSync(out, 'utf8'));
    expect(rows.map((r) => r.photo).sort()).toEqual(['00004A02.jpg', '00020A02.jpg']);
    for (const r of rows) {
      expect(r.status).toBe('ok');
      expect(Math.abs(r.deg ?? 99)).toBeLessThan(20);
    }
    const again = await run('align', '--images', `${AAF_RAW}/images`, '--list', list, '--out', out);
    expect(again.text).toContain('2 photos (2 already in');
  });
});
if (!AAF_PRESENT) console.log(`face-prep: ${AAF_RAW} not found, skipping the real-photo CLI test.`);
