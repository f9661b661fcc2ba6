import * as http from 'node:http';
import express from 'express';
import { aseMiddleware } from '@ase/express';
import { listen } from '../../helpers/http';
import { type Harness, type HostAppRequest, hostAppBody, readBody } from './types';

export const expressHarness: Harness = {
  framework: 'express',
  async start(enforcer) {
    const appSeen: HostAppRequest[] = [];
    const app = express();
    app.use(aseMiddleware(enforcer));
    app.use(async (req, res) => {
      const body = await readBody(req);
      appSeen.push({ method: req.method, url: req.originalUrl, headers: req.headers, body });
      res.status(200).type('text/plain').send(hostAppBody(req.method, req.originalUrl));
    });
    const srv = await listen(http.createServer(app));
    return { port: srv.port, appSeen, close: () => srv.close() };
  },
};
