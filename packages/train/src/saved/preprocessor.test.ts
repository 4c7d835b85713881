import { describe, expect, it } from 'vitest';
import { parsePreprocessorConfig, type PreprocessorConfig } from './preprocessor';

const valid: PreprocessorConfig = {
  format: 'ldl-preprocessor', version: 2, inputSize: 150, colorOrder: 'rgb', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], crop: 'square-bottom', margin: 0,
  heads: ['age'], minAge: 0, numClasses: 101, sigma: 2, genderClasses: null, ethnicityClasses: null, backbone: 'facerec_resnet34', weights: 'facerec_resnet34.faceapi',
};
const parse = (o: object) => () => parsePreprocessorConfig(o, '/m/preprocessor.json');

describe('parsePreprocessorConfig', () => {
  it('accepts a valid file and the multi-task heads with their class names', () => {
    expect(parse(valid)()).toEqual(valid);
    const multi = { ...valid, heads: ['age', 'gender', 'ethnicity'], genderClasses: ['male', 'female'], ethnicityClasses: ['White', 'Black', 'Asian', 'Indian', 'Others'] };
    expect(parse(multi)()).toEqual(multi);
  });

  it('names the file and the field of the first problem', () => {
    expect(parse({ ...valid, inputSize: 0 })).toThrow('Error in parsePreprocessorConfig: /m/preprocessor.json: inputSize must be a positive integer (pixels), but got 0.');
    expect(parse({ ...valid, std: [0.5, 0, 0.5] })).toThrow('/m/preprocessor.json: std must be 3 finite numbers on the 0..1 scale, all > 0, but got [0.5,0,0.5].');
    expect(parse({ ...valid, colorOrder: 'RGB' })).toThrow(`colorOrder must be 'rgb' or 'bgr', but got "RGB".`);
    expect(parse({ ...valid, crop: 'center' })).toThrow('crop must be one of stretch, square-center, square-bottom, but got "center".');
    expect(parse({ ...valid, heads: ['age', 'gender'] })).toThrow('heads must be ["age"] or ["age","gender","ethnicity"], but got ["age","gender"].');
    expect(parse({ ...valid, heads: ['age', 'gender', 'ethnicity'] })).toThrow('genderClasses must be an array of ≥ 2 class names (the model has that head), but got null.');
    const { sigma: _s, ...noSigma } = valid;
    expect(parse(noSigma)).toThrow('sigma must be a number > 0 (years), but got nothing.');
    expect(parse({ ...valid, size: 150 })).toThrow("field 'size' must be absent (the fields are format, version,");
  });

  it('says how to convert a version-1 file', () => {
    expect(parse({ ...valid, version: 1 })).toThrow("version must be 2 (a version 1 file: convert it with 'ldl preprocessor --upgrade DIR'), but got 1.");
    expect(parse({ ...valid, format: 'other' })).toThrow("format must be 'ldl-preprocessor', but got \"other\".");
    expect(() => parsePreprocessorConfig([], 'x.json')).toThrow('Error in parsePreprocessorConfig: x.json: the file must be a JSON object, but got [].');
  });
});
