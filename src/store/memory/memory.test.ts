import { describeBackend } from '../conformance.ts';
import { MemoryBackend } from './memory.ts';

describeBackend('memory', async () => ({ backend: new MemoryBackend() }));
