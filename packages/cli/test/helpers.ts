import { vi } from 'vitest';
import { runCli } from '../src/program';

/** Runs `ldl` in this process and returns its exit code and what it printed (console, stdout, stderr, the log). */
export async function ldl(...argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const spies = [
    vi.spyOn(console, 'error').mockImplementation((l: unknown) => void lines.push(String(l))),
    vi.spyOn(console, 'warn').mockImplementation((l: unknown) => void lines.push(String(l))),
    vi.spyOn(console, 'log').mockImplementation((l: unknown) => void lines.push(String(l))), // the trainer's progress
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => lines.push(String(s)) > 0),
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => lines.push(String(s)) > 0),
  ];
  try {
    const code = await runCli(argv, (l) => lines.push(l));
    return { code, out: lines.join('\n') };
  } finally {
    spies.forEach((s) => s.mockRestore());
  }
}
