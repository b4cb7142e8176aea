/**
 * A small pool of worker threads running `processBatch`: each worker takes one batch at a time and
 * batches are handed out first come, first served. Results come back as promises that the writer
 * awaits in archive order, so entries are written in order whatever thread finished first.
 */
import { Worker } from 'node:worker_threads';
import { WORKER_SOURCE, type BatchRequest, type BatchResponse } from './deflate-worker.js';

interface Job {
  request: BatchRequest;
  resolve: (response: BatchResponse) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | undefined;
}

export class DeflatePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private failure: Error | undefined;
  private closing = false;

  constructor(size: number) {
    for (let index = 0; index < size; index += 1) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        // The worker's own JS heap holds little (file data lives in Buffers outside it): a small
        // young generation keeps each thread's footprint, and so the process's peak memory, low.
        resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 },
      });
      const slot: Slot = { worker, job: undefined };
      worker.on('message', (message: { ok: true; response: BatchResponse } | { ok: false; message: string }) => {
        const job = slot.job;
        slot.job = undefined;
        if (job !== undefined) {
          if (message.ok) job.resolve(message.response);
          else job.reject(new Error(message.message));
        }
        this.pump();
      });
      const onFailure = (error: Error): void => {
        this.failure ??= error;
        slot.job?.reject(error);
        slot.job = undefined;
        for (const queued of this.queue.splice(0)) queued.reject(error);
      };
      worker.on('error', onFailure);
      worker.on('exit', (code) => {
        if (!this.closing && (code !== 0 || slot.job !== undefined)) onFailure(new Error(`archive worker exited with code ${code}`));
      });
      this.slots.push(slot);
    }
  }

  run(request: BatchRequest): Promise<BatchResponse> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.job !== undefined) continue;
      const job = this.queue.shift() as Job;
      slot.job = job;
      slot.worker.postMessage(job.request);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }
}
