/** How many hash slots a Redis Cluster divides its keys into. */
export const CLUSTER_SLOTS = 16_384;

/** CRC16-CCITT (XMODEM: polynomial 0x1021, initial 0), the checksum Redis Cluster hashes keys with. */
function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/**
 * The hash slot Redis Cluster keeps `key` in: CRC16 of the key, or of its hash tag (the text between
 * the first `{` and the next `}`, when not empty), modulo {@link CLUSTER_SLOTS}. Keys that share a tag
 * share a slot, which is what lets a script or transaction touch them together.
 */
export function keySlot(key: string): number {
  const open = key.indexOf("{");
  const close = open < 0 ? -1 : key.indexOf("}", open + 1);
  const hashed = close > open + 1 ? key.slice(open + 1, close) : key;
  return crc16(new TextEncoder().encode(hashed)) % CLUSTER_SLOTS;
}
