import { describe, expect, it } from 'vitest';
import { Status } from '../../src/abi/types.ts';
import { remoteSharedState } from '../../src/supervisor/remote-shared-state.ts';
import { createRpcChannel, RPC_CHANNEL_BYTES, SyncRpcClient } from '../../src/supervisor/sync-rpc.ts';
import { memoryLogger } from '../abi/helpers.ts';

describe("a worker's shared state when a call cannot reach the supervisor", () => {
  it('drops a value too large for the channel, logging why once per interval', () => {
    const { logger, lines } = memoryLogger();
    const state = remoteSharedState(new SyncRpcClient(createRpcChannel()), new SharedArrayBuffer(1024), logger);
    const huge = Buffer.alloc(RPC_CHANNEL_BYTES + 1);
    // Answered like a full store (OK, dropped): the Rust SDK panics on other statuses.
    expect(state.sharedData.set('vm', 'key', huge, 0)).toBe(Status.OK);
    expect(state.sharedData.set('vm', 'key', huge, 0)).toBe(Status.OK);
    const failed = lines.filter((l) => l.msg === 'shared data write failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!['level']).toBe(50);
    expect(String(failed[0]!['err'])).toMatch(/^a request of \d+ bytes does not fit the channel between a worker and the supervisor/);
    expect(lines.some((l) => String(l.msg).includes('did not answer'))).toBe(false);
  });
});
