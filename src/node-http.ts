// node:http's createServer and STATUS_CODES, taken from the CommonJS module. `import { createServer } from
// 'node:http'` makes Node build the module's ES facade, which reads every export, and among them
// the lazy WebSocket/MessageEvent getters load Node's bundled copy of undici: 25–33 ms of each
// thread's start-up for classes sluice never uses (docs/RATIONALE.md, "What start-up loads").

export const { createServer, STATUS_CODES } = process.getBuiltinModule('node:http');
