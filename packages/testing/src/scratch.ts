import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, chownSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * Throwaway PostgreSQL clusters and Redis servers on their own ports and temp dirs,
 * for tests that stop and restart a dependency (fault tests, the chaos suite):
 * the shared servers on 5432/6379 are never touched.
 */

/** Ports this process has handed out: the kernel may give a just-closed port again before its first taker binds it. */
const handedOut = new Set<number>();

/** A free TCP port on 127.0.0.1, never one this process has handed out before. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once("error", reject);
      srv.listen(0, "127.0.0.1", () => {
        const { port } = srv.address() as { port: number };
        srv.close(() => resolve(port));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** The directory holding initdb/pg_ctl, or null when PostgreSQL's server binaries are not installed. */
export function postgresBinDir(): string | null {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], "bin") : null;
}

export function redisServerBinary(): string | null {
  for (const p of ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]) if (existsSync(p)) return p;
  return null;
}

const isRoot = process.getuid?.() === 0;

/** PostgreSQL refuses to run as root: run its binaries as the `postgres` user then. */
function pgCommand(bin: string, args: string[]): [string, string[]] {
  return isRoot ? ["runuser", ["-u", "postgres", "--", bin, ...args]] : [bin, args];
}

export interface ScratchPostgres {
  port: number;
  /** A connection URL for a database on this cluster (user root, trust). */
  url(database?: string): string;
  /** `pg_ctl stop -m immediate` (a crash, as an OOM kill or power loss would be), or fast. */
  stop(mode?: "immediate" | "fast"): void;
  start(): Promise<void>;
  /** Stops the server and removes its data directory. */
  destroy(): void;
}

export async function startScratchPostgres(): Promise<ScratchPostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error("PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)");
  const dir = mkdtempSync(path.join(tmpdir(), "shouhu-pg-"));
  const data = path.join(dir, "data");
  if (isRoot) chownSync(dir, uid("postgres"), gid("postgres"));
  const port = await freePort();
  const run = (name: string, args: string[]) => {
    const [cmd, argv] = pgCommand(path.join(bin, name), args);
    execFileSync(cmd, argv, { stdio: "pipe" });
  };
  run("initdb", ["-D", data, "-U", "root", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const start = async () => {
    run("pg_ctl", ["-D", data, "-o", opts, "-l", path.join(dir, "log"), "-w", "-t", "30", "start"]);
  };
  await start();
  return {
    port,
    url: (database = "postgres") => `postgresql://root@127.0.0.1:${port}/${database}`,
    stop: (mode = "immediate") => run("pg_ctl", ["-D", data, "-m", mode, "-w", "stop"]),
    start,
    destroy() {
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ScratchRedis {
  port: number;
  url: string;
  /** SIGKILL (a crash); with AOF on, a restart reloads what was written. */
  kill(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startScratchRedis(options: { appendonly?: boolean } = {}): Promise<ScratchRedis> {
  const bin = redisServerBinary();
  if (!bin) throw new Error("redis-server not found (apt-get install redis-server)");
  const dir = mkdtempSync(path.join(tmpdir(), "shouhu-redis-"));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(
      bin,
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        dir,
        "--save",
        "",
        "--appendonly",
        options.appendonly ? "yes" : "no",
        "--appendfsync",
        "everysec",
        "--maxmemory-policy",
        "noeviction",
      ],
      { stdio: "ignore" },
    );
    const deadline = Date.now() + 10_000;
    while (!(await answers(port))) {
      if (Date.now() > deadline) throw new Error(`scratch redis on ${port} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once("exit", () => resolve());
      c.kill("SIGKILL");
    });
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    start,
    async destroy() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function answers(port: number): Promise<boolean> {
  const { Socket } = await import("node:net");
  return new Promise((resolve) => {
    const s = new Socket();
    s.setTimeout(500);
    s.once("error", () => resolve(false));
    s.once("timeout", () => (s.destroy(), resolve(false)));
    s.connect(port, "127.0.0.1", () => {
      s.write("PING\r\n");
      s.once("data", (d) => {
        s.destroy();
        resolve(d.toString().startsWith("+PONG"));
      });
    });
  });
}

function uid(user: string): number {
  return Number(execFileSync("id", ["-u", user]).toString().trim());
}
function gid(user: string): number {
  return Number(execFileSync("id", ["-g", user]).toString().trim());
}
