/**
 * The benchmark's floor: the least a cdk8s + cdk8s-plus-28 synth costs on this machine, one
 * Deployment written to the directory given as the first argument.
 */
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';

const app = new App({ outdir: process.argv[2] ?? 'dist-floor' });
const chart = new Chart(app, 'floor');
new kplus.Deployment(chart, 'web', { containers: [{ image: 'registry.example.com/web:1.0.0', portNumber: 8080 }] });
app.synth();
