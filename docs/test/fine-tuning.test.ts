import { testGuide } from './run-guide';

testGuide('fine-tuning.md');
