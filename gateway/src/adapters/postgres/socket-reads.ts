import type { Socket } from 'node:net';

/**
 * The next chunk from a socket in paused mode; null once it has ended.
 * (Breaking out of `for await` over a socket would destroy it.)
 */
export async function readChunk(socket: Socket): Promise<Buffer | null> {
  for (;;) {
    const chunk = socket.read() as Buffer | null;
    if (chunk) return chunk;
    if (socket.readableEnded || socket.destroyed) return null;
    await new Promise<void>((resolve) => {
      const done = () => {
        socket.off('readable', done).off('end', done).off('close', done).off('error', done);
        resolve();
      };
      socket.on('readable', done).on('end', done).on('close', done).on('error', done);
    });
  }
}
