import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';

/** One repo the fake Hub serves: a folder's files at one commit, under a branch name. */
export interface FakeRepo {
  dir: string;
  commit: string;
  branch?: string;
  /** Needs `Authorization: Bearer <token>`. */
  token?: string;
}

/** Faults the fake Hub can inject. */
export interface HubFaults {
  /** Close the connection after this many bytes of the named file's body (once per file). */
  cutFile?: { path: string; afterBytes: number };
}

/** A loopback server that answers the Hub routes @huggingface/hub uses, for tests (no network). */
export interface FakeHub {
  url: string;
  /** Every request, `METHOD path`, in order. */
  requests: string[];
  faults: HubFaults;
  close(): Promise<void>;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.')) continue;
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.push(relative(dir, full).split('\\').join('/'));
    }
  };
  walk(dir);
  return out;
}

const oid = (bytes: Buffer) => createHash('sha1').update(bytes).digest('hex');

/** Starts the fake Hub on 127.0.0.1 with the given repos (`owner/name` → repo). */
export async function startFakeHub(repos: Record<string, FakeRepo>): Promise<FakeHub> {
  const requests: string[] = [];
  const faults: HubFaults = {};
  const cut = new Set<string>();
  const json = (res: ServerResponse, status: number, body: unknown, errorCode?: string) => {
    res.writeHead(status, { 'content-type': 'application/json', ...(errorCode ? { 'x-error-code': errorCode } : {}) });
    res.end(JSON.stringify(body));
  };
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${url.pathname}`);
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/(revision|tree|paths-info)\/([^/]+)/.exec(url.pathname);
    const file = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const repoId = decodeURIComponent((api ?? file)?.[1] ?? '');
    const repo = repos[repoId];
    if (!repo) return json(res, 404, { error: 'Repository not found' }, 'RepoNotFound');
    if (repo.token && req.headers.authorization !== `Bearer ${repo.token}`) {
      return json(res, 401, { error: 'Invalid credentials in Authorization header' }, 'RepoNotFound');
    }
    const rev = decodeURIComponent(api?.[3] ?? file?.[2] ?? '');
    if (rev !== repo.commit && rev !== (repo.branch ?? 'main')) return json(res, 404, { error: `Invalid rev id: ${rev}` }, 'RevisionNotFound');
    const files = listFiles(repo.dir);
    const info = (path: string) => {
      const bytes = readFileSync(join(repo.dir, path));
      return { type: 'file', path, size: bytes.length, oid: oid(bytes), lastCommit: { id: repo.commit, title: 'add', date: '2026-01-01T00:00:00.000Z' } };
    };
    if (api?.[2] === 'revision')
      return json(res, 200, { _id: 'x', id: repoId, sha: repo.commit, private: Boolean(repo.token), siblings: files.map((rfilename) => ({ rfilename })) });
    if (api?.[2] === 'tree') return json(res, 200, files.map(info));
    if (api?.[2] === 'paths-info') {
      let body = '';
      for await (const chunk of req) body += chunk;
      const paths = (JSON.parse(body) as { paths: string[] }).paths;
      return json(res, 200, paths.filter((p) => files.includes(p)).map(info));
    }
    if (file) {
      const path = decodeURIComponent(file[3]!);
      if (!files.includes(path)) return json(res, 404, { error: 'Entry not found' }, 'EntryNotFound');
      const bytes = readFileSync(join(repo.dir, path));
      const headers = { etag: `"${oid(bytes)}"`, 'x-repo-commit': repo.commit, 'accept-ranges': 'bytes' };
      const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      const start = range ? Number(range[1]) : 0;
      const end = range?.[2] ? Math.min(Number(range[2]), bytes.length - 1) : bytes.length - 1;
      const body = bytes.subarray(start, end + 1);
      res.writeHead(range ? 206 : 200, {
        ...headers,
        'content-length': body.length,
        ...(range ? { 'content-range': `bytes ${start}-${end}/${bytes.length}` } : {}),
      });
      if (faults.cutFile?.path === path && body.length > faults.cutFile.afterBytes && !cut.has(path)) {
        cut.add(path);
        res.write(body.subarray(0, faults.cutFile.afterBytes));
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      return res.end(body);
    }
    json(res, 404, { error: 'not found' });
  };
  const server: Server = createServer((req, res) => {
    handler(req, res).catch((err: unknown) => json(res, 500, { error: String(err) }));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    faults,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}
