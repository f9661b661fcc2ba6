import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from './config';
import { freePort } from './http';
import { spawnProxy } from './proxy-process';

/** The nginx binary (Debian's nginx-light has auth_request), or undefined when none is installed. */
export const NGINX_BIN = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx', '/usr/local/nginx/sbin/nginx'].find((p) => fs.existsSync(p));

export interface RunningNginx {
  port: number;
  /** What nginx wrote to its error log (in the temp folder). */
  errorLog(): string;
  stop(): Promise<void>;
}

/**
 * Our own nginx, never the system's service: the configuration, pid file, error log and temp
 * paths in a fresh temp folder, listening on 127.0.0.1 at a free port, in the foreground
 * (`daemon off`) so stop() can end it by its pid. `http(port)` is the body of the `http` block
 * (upstreams and a server listening on 127.0.0.1:port).
 */
export async function startNginx(http: (port: number) => string): Promise<RunningNginx> {
  if (!NGINX_BIN) throw new Error('nginx is not installed');
  const dir = tempDir('ase-nginx-');
  const port = await freePort();
  // Run as root (CI), nginx would switch its workers to `nobody`, who cannot use the temp folder.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  const conf = `${user}worker_processes 1;
error_log ${path.join(dir, 'error.log')} info;
pid ${path.join(dir, 'nginx.pid')};
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${path.join(dir, 'client_body')};
  proxy_temp_path ${path.join(dir, 'proxy')};
  fastcgi_temp_path ${path.join(dir, 'fastcgi')};
  uwsgi_temp_path ${path.join(dir, 'uwsgi')};
  scgi_temp_path ${path.join(dir, 'scgi')};
${http(port)}
}
`;
  fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
  const errorLog = (): string => {
    try {
      return fs.readFileSync(path.join(dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  const { stop } = await spawnProxy('nginx', NGINX_BIN, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], dir, port, errorLog);
  return { port, errorLog, stop };
}
