import { describe, expect, it } from 'vitest';
import { createDefaultDetector } from '../src/detector';

describe('createDefaultDetector options', () => {
  it.each([
    [{ eyeModel: 'iris' as 'mesh' }, "eyeModel must be 'mesh' or 'landmark68', but got 'iris'."],
    [{ meshScale: 0 }, 'meshScale must be in (0, 3], but got 0.'],
    [{ meshRotations: 0.5 }, 'meshRotations must be an integer >= 0, but got 0.5.'],
  ])('rejects %o', async (options, message) => {
    await expect(createDefaultDetector(options)).rejects.toThrow(`Error in createDefaultDetector: ${message}`);
  });
});
