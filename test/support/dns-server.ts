import { createSocket, type Socket } from 'node:dgram';

export interface DnsServer {
  /** `127.0.0.1:<port>`, for SSO_DNS_SERVERS. */
  address: string;
  /** Publishes (or replaces) the TXT values of a name. */
  setTxt(name: string, values: string[]): void;
  /** Stops answering: queries time out, as when DNS is unreachable. */
  silence(on: boolean): void;
  close(): Promise<void>;
}

const TYPE_TXT = 16;

/**
 * A real DNS server on loopback UDP that answers TXT questions from a table the test fills: what
 * domain verification talks to instead of the internet's DNS. Names it does not know get
 * NXDOMAIN; other record types get an empty answer.
 */
export async function startDnsServer(): Promise<DnsServer> {
  const records = new Map<string, string[]>();
  let silent = false;
  const socket: Socket = createSocket('udp4');
  socket.on('message', (query, peer) => {
    if (silent || query.length < 12) return;
    // The question: a sequence of length-prefixed labels, then type and class.
    let offset = 12;
    const labels: string[] = [];
    while (offset < query.length && query[offset] !== 0) {
      const length = query[offset]!;
      labels.push(query.subarray(offset + 1, offset + 1 + length).toString('ascii'));
      offset += length + 1;
    }
    const questionEnd = offset + 5;
    if (questionEnd > query.length) return;
    const type = query.readUInt16BE(offset + 1);
    const name = labels.join('.').toLowerCase();
    const values = records.get(name);
    const answers = values && type === TYPE_TXT ? values : [];
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2);
    header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | (values ? 0 : 3), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const parts = [header, query.subarray(12, questionEnd)];
    for (const value of answers) {
      const text = Buffer.from(value, 'utf8');
      const chunks: Buffer[] = [];
      for (let i = 0; i < text.length; i += 255) {
        const chunk = text.subarray(i, i + 255);
        chunks.push(Buffer.from([chunk.length]), chunk);
      }
      const data = Buffer.concat(chunks);
      const answer = Buffer.alloc(12);
      answer.writeUInt16BE(0xc00c, 0);
      answer.writeUInt16BE(TYPE_TXT, 2);
      answer.writeUInt16BE(1, 4);
      answer.writeUInt32BE(60, 6);
      answer.writeUInt16BE(data.length, 10);
      parts.push(answer, data);
    }
    socket.send(Buffer.concat(parts), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  return {
    address: `127.0.0.1:${port}`,
    setTxt: (name, values) => records.set(name.toLowerCase(), values),
    silence: (on) => {
      silent = on;
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
