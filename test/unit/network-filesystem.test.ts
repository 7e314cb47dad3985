import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UnsafeFilesystemError } from '../../src/core/shared/errors.js';
import { filesystemTypeOf, networkFilesystemOf } from '../../src/stores/sqlite/network-filesystem.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';

const MOUNTS = `/dev/vda / ext4 rw,relatime 0 0
proc /proc proc rw 0 0
server:/export /mnt/shared nfs4 rw,vers=4.2 0 0
//nas/share /mnt/nas\\040box cifs rw 0 0
tmpfs /mnt/shared/local tmpfs rw 0 0`;

describe('network filesystem detection', () => {
  it('finds the filesystem of the longest matching mount point', () => {
    assert.equal(filesystemTypeOf('/home/me/app', MOUNTS), 'ext4');
    assert.equal(filesystemTypeOf('/mnt/shared/app/.retrace', MOUNTS), 'nfs4');
    assert.equal(filesystemTypeOf('/mnt/shared/local/x', MOUNTS), 'tmpfs');
    assert.equal(filesystemTypeOf('/mnt/sharedother', MOUNTS), 'ext4', 'a prefix must end at a path separator');
    assert.equal(filesystemTypeOf('/mnt/nas box/db', MOUNTS), 'cifs', 'octal escapes in mount points');
  });

  it('refuses to open a store on a network filesystem, with a clear message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'retrace-nfs-'));
    try {
      const nfsMounts = `${dir} ${dir} nfs4 rw 0 0\n/ / ext4 rw 0 0`;
      assert.equal(
        networkFilesystemOf(dir, () => nfsMounts),
        'nfs4',
      );
      assert.equal(networkFilesystemOf(dir), undefined, 'the real temp dir here is local');
      assert.equal(
        networkFilesystemOf(dir, () => {
          throw new Error('no /proc');
        }),
        undefined,
      );
      const err = new UnsafeFilesystemError(join(dir, 'x.db'), 'nfs4');
      assert.match(err.message, /network filesystem, where SQLite's WAL mode cannot guarantee durability/);
      assert.equal(err.code, 'STORE_UNSAFE_FILESYSTEM');
      // On the real (local) filesystem the store opens.
      const store = new SqliteStore({ path: join(dir, 'ok.db') });
      await store.init();
      assert.equal(store.integrityCheck(), 'ok');
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
