import { readFileSync, realpathSync } from 'node:fs';

/** Filesystems on which SQLite's WAL mode (shared memory, POSIX locks) is unsafe. */
const NETWORK_FS_TYPES = new Set([
  'nfs',
  'nfs4',
  'cifs',
  'smb',
  'smb2',
  'smb3',
  'smbfs',
  'afs',
  'ncpfs',
  'coda',
  'ceph',
  'glusterfs',
  'fuse.sshfs',
  'fuse.glusterfs',
  'fuse.cephfs',
  'fuse.s3fs',
  'fuse.rclone',
  'fuse.gcsfuse',
  '9p',
  'virtiofs',
  'lustre',
  'gpfs',
]);

/**
 * The filesystem type of the mount that holds `path`, read from a /proc/mounts-style table
 * (the longest mount point that is a prefix of the path wins). Undefined when unknown.
 */
export function filesystemTypeOf(path: string, mountsTable: string): string | undefined {
  let best: { mountPoint: string; type: string } | undefined;
  for (const line of mountsTable.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 3) continue;
    const mountPoint = unescapeMountField(fields[1]!);
    const type = fields[2]!;
    const isPrefix = mountPoint === '/' || path === mountPoint || path.startsWith(`${mountPoint}/`);
    if (isPrefix && (!best || mountPoint.length > best.mountPoint.length)) best = { mountPoint, type };
  }
  return best?.type;
}

/** Returns the network filesystem type holding `dir`, or undefined when it is local (or unknowable, e.g. not Linux). */
export function networkFilesystemOf(dir: string, readMounts: () => string = defaultReadMounts): string | undefined {
  let mounts: string;
  try {
    mounts = readMounts();
  } catch {
    return undefined;
  }
  const type = filesystemTypeOf(realpathSync(dir), mounts);
  return type !== undefined && NETWORK_FS_TYPES.has(type) ? type : undefined;
}

function defaultReadMounts(): string {
  return readFileSync('/proc/self/mounts', 'utf8');
}

/** /proc/mounts escapes spaces and a few other characters as octal. */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}
