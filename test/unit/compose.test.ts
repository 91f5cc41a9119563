import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { load } from 'js-yaml';

/**
 * No Docker engine runs where CI runs, so compose.yaml cannot be started here. This test keeps it
 * honest instead: every build context, Dockerfile, COPY source and script it relies on must exist.
 */
const root = resolve(__dirname, '..', '..');

interface Service {
  image?: string;
  build?: string | { context: string; dockerfile?: string };
  command?: string | string[];
}

const compose = load(readFileSync(join(root, 'compose.yaml'), 'utf8')) as {
  services: Record<string, Service>;
};

function buildOf(s: Service): { context: string; dockerfile: string } | undefined {
  if (s.build === undefined) return undefined;
  const context = typeof s.build === 'string' ? s.build : s.build.context;
  const dockerfile =
    typeof s.build === 'string' ? 'Dockerfile' : (s.build.dockerfile ?? 'Dockerfile');
  return { context: join(root, context), dockerfile };
}

/** `COPY`/`ADD` sources and the script named by `CMD`, relative to the build context. */
function referencedFiles(dockerfile: string): string[] {
  const refs: string[] = [];
  for (const line of dockerfile.split('\n')) {
    const copy = /^\s*(?:COPY|ADD)\s+(?:--\S+\s+)*(.+)$/i.exec(line);
    if (copy?.[1]) {
      const parts = copy[1].trim().split(/\s+/);
      refs.push(...parts.slice(0, -1));
    }
    const cmd = /^\s*CMD\s+\[(.*)\]/i.exec(line);
    if (cmd?.[1]) {
      for (const arg of JSON.parse(`[${cmd[1]}]`) as string[]) {
        if (/\.(sh|py)$/.test(arg)) refs.push(arg);
      }
    }
  }
  return refs;
}

describe('compose.yaml', () => {
  it('defines the brokers and the Python peer worker', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      expect.arrayContaining(['py-worker', 'rabbitmq', 'redis']),
    );
    expect(compose.services.redis?.image).toMatch(/^redis:/);
    expect(compose.services.rabbitmq?.image).toMatch(/^rabbitmq:/);
  });

  const built = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);

  it('builds at least the Python peer', () => {
    expect(built.map(([name]) => name)).toContain('py-worker');
  });

  it.each(built)(
    'service %s: build context, Dockerfile and every COPY source exist',
    (_name, s) => {
      const b = buildOf(s);
      expect(b).toBeDefined();
      if (b === undefined) return;
      expect(statSync(b.context).isDirectory()).toBe(true);
      const dockerfilePath = join(b.context, b.dockerfile);
      expect(existsSync(dockerfilePath)).toBe(true);
      const refs = referencedFiles(readFileSync(dockerfilePath, 'utf8'));
      expect(refs.length).toBeGreaterThan(0);
      for (const ref of refs) {
        expect({ ref, exists: existsSync(join(b.context, ref)) }).toEqual({ ref, exists: true });
      }
    },
  );

  it('pins the peer requirements the Dockerfile installs to the same Celery as the venv', () => {
    const req = readFileSync(join(root, 'python-peers', 'requirements-5.7.txt'), 'utf8');
    expect(req).toMatch(/^celery==5\.7\.\d+$/m);
    expect(req).toMatch(/^kombu==5\.7\.\d+$/m);
  });
});
