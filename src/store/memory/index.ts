export { MemoryBackend } from './memory.ts';
