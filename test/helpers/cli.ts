// The CLI as the e2e tests run it, and the one-filter configuration they give it.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'bin', 'sluice.mjs');

/**
 * Writes dir/config.yaml: one listener on a free port with filter `f` (`module`, and its
 * `configuration` when given) in front of an echo route. Returns the file's path.
 */
export function configWith(dir: string, module: string, configuration = ''): string {
  const file = join(dir, 'config.yaml');
  writeFileSync(
    file,
    [
      'listeners:',
      '  - name: l',
      '    address: 127.0.0.1:0',
      '    filters: [f]',
      '    routes: [{ match: {}, echo: true }]',
      'filters:',
      '  - name: f',
      `    module: ${module}`,
      ...(configuration === '' ? [] : [`    configuration: ${configuration}`]),
    ].join('\n'),
  );
  return file;
}
