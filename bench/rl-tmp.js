const { createEnforcer, silentLogger } = require('@ase/core');
const { fillDenyList, realisticPolicy, requests } = require('./core');
const apis = realisticPolicy();
for (const a of Object.values(apis)) a.api_metadata.flow_control = { client_spike_threshold: '1000000/second' };
const e = createEnforcer({ logger: silentLogger, apis });
fillDenyList(e, 100000);
const reqs = requests(4096);
(async () => {
  for (let r = 0; r < 5; r++) {
    let n = 0; const t0 = performance.now();
    while (performance.now() - t0 < 1000) {
      const ps = [];
      for (let i = 0; i < 256; i++) ps.push(e.decide(reqs[(n + i) & 4095]));
      const ds = await Promise.all(ps);
      if (ds[0].action !== 'proxy') throw new Error(ds[0].action);
      n += 256;
    }
    console.log('rl', n / ((performance.now() - t0) / 1000));
  }
})();
