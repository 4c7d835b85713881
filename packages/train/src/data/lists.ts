/**
 * Parallel list files: two text files whose line N belong together (MegaAge's `train_name.txt` and
 * `train_age.txt`, or any name/label pair). Pairing is by line number, so lists of different lengths
 * would give every image after the first extra or missing line another image's label: that is never
 * a bad row to skip but a broken data set, and reading stops.
 */

/** One line of a pair of parallel lists. */
export interface ParallelLine {
  /** 1-based line number (the same in both files). */
  line: number;
  /** The line of the first file, trimmed (`''` where it is blank or a comment). */
  a: string;
  /** The line of the second file, trimmed (`''` where it is blank or a comment). */
  b: string;
  /**
   * Set where the pairing of this line is in doubt: the line lies between a line blank in one list only
   * and a later line blank in the other list only. Such blanks are what an inserted (or deleted) line
   * in each list looks like, and between them line N of one list may belong to line N±1 of the other;
   * the reason says which two lines. A caller skips (or refuses) such a line, never pairs it.
   */
  outOfStep?: string;
}

/** A blank line or a comment (`#` first): a line that holds no entry. */
export function isBlankOrComment(line: string): boolean {
  const t = line.trim();
  return t === '' || t.startsWith('#');
}

/** Lines of a text file (`\n` or `\r\n`), without the blank lines at its end. */
export function splitListLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  return lines;
}

/**
 * Pairs two parallel lists line by line (line N of one with line N of the other, never the N-th entry of
 * one with the N-th entry of the other). Blank and comment lines are treated the same in both files: a
 * line that is blank (or a comment) in both is dropped; one that is blank in only one file is kept (with
 * `''` on that side) for the caller to report as a bad row naming both files and the line.
 *
 * One-sided blank lines in both lists, in opposite directions (line 5 blank in the first list only, line
 * 12 blank in the second list only), are what an inserted blank line in each list looks like: the lines
 * between them may be shifted by one, and pairing them by line could give each image the next image's
 * label. They are marked {@link ParallelLine.outOfStep}, so the caller never pairs them silently.
 *
 * @throws {Error} `Error in <fn>: …` naming both files and their line counts when the lists have a
 * different number of lines (trailing blank lines aside), and where the first blank/comment line of
 * one list faces an entry of the other (the likely place of the shift).
 */
export function pairParallelLists(fn: string, fileA: string, textA: string, fileB: string, textB: string): ParallelLine[] {
  const a = splitListLines(textA);
  const b = splitListLines(textB);
  if (a.length !== b.length) {
    const n = Math.min(a.length, b.length);
    let hint = '';
    for (let i = 0; i < n; i++) {
      const [ea, eb] = [isBlankOrComment(a[i]), isBlankOrComment(b[i])];
      if (ea !== eb) {
        hint = ` The first line that is blank (or a comment) in one list only is ${ea ? fileA : fileB} line ${i + 1}.`;
        break;
      }
    }
    throw new Error(
      `Error in ${fn}: ${fileA} and ${fileB} must have the same number of lines (line N of one labels line N of the other), ` +
        `but ${fileA} has ${a.length} lines and ${fileB} has ${b.length}; every entry after the first extra or missing line would get another entry's label.${hint}`,
    );
  }
  const out: ParallelLine[] = [];
  // Open one-sided blanks, as a stack of (line, side): a blank in A only, later closed by a blank in B only (or the reverse).
  const open: { line: number; inA: boolean; index: number }[] = [];
  for (let i = 0; i < a.length; i++) {
    const [ea, eb] = [isBlankOrComment(a[i]), isBlankOrComment(b[i])];
    if (ea && eb) continue;
    if (ea !== eb) {
      const top = open.at(-1);
      if (top && top.inA !== ea) {
        open.pop();
        const [first, second] = top.inA ? [fileA, fileB] : [fileB, fileA];
        const why = `${first} line ${top.line} is blank where ${second} has an entry, and ${second} line ${i + 1} is blank where ${first} has one: between them the two lists may be out of step by one line, so this line's pair is in doubt`;
        for (let k = top.index + 1; k < out.length; k++) if (out[k].outOfStep === undefined) out[k] = { ...out[k], outOfStep: why };
      } else open.push({ line: i + 1, inA: ea, index: out.length });
    }
    out.push({ line: i + 1, a: ea ? '' : a[i].trim(), b: eb ? '' : b[i].trim() });
  }
  return out;
}
