/**
 * Sample objects for the demo: seven daily order CSVs (leading-zero zip codes, one file with rows
 * that do not fit, a later file with a new column) and three gzip NDJSON event files (one broken line).
 */
export function sampleObjects(): Record<string, string> {
  const objects: Record<string, string> = {};
  const zips = ['00501', '02134', '10001', '94105', '60601'];
  let orderId = 1000;
  for (let day = 1; day <= 7; day++) {
    const withCoupon = day >= 6;
    const header = ['order_id', 'customer_zip', 'amount', 'ordered_at', ...(withCoupon ? ['coupon'] : [])];
    const lines = [header.join(',')];
    for (let i = 0; i < 20; i++) {
      orderId++;
      const row = [String(orderId), zips[(orderId * 7) % zips.length]!, (5 + ((orderId * 13) % 400) / 4).toFixed(2), `2026-11-0${day} ${String(8 + (i % 10)).padStart(2, '0')}:15:00`];
      if (withCoupon) row.push(i % 4 === 0 ? 'WINTER10' : '');
      lines.push(row.join(','));
    }
    if (day === 3) {
      lines.push(`${++orderId},02134,n/a,2026-11-03 19:00:00`);
      lines.push(`${++orderId},"10001"`);
    }
    objects[`orders/2026/11/orders-2026-11-0${day}.csv`] = lines.join('\n') + '\n';
  }
  const actions = ['view', 'click', 'purchase', 'share'];
  for (let part = 1; part <= 3; part++) {
    const lines: string[] = [];
    for (let i = 0; i < 50; i++) {
      const n = part * 100 + i;
      lines.push(JSON.stringify({
        timestamp: `2026-11-${String(part + 10)}T${String(i % 24).padStart(2, '0')}:00:00Z`,
        session_id: `s-${(n * 7919) % 1000}`,
        action: actions[n % actions.length],
        geo: n % 3 === 0 ? { country: 'FR' } : {},
        payload: { item: n, tags: ['a', 'b'] },
      }));
    }
    if (part === 2) {
      lines.splice(10, 0, '{"timestamp": "2026-11-12T10:00:00Z", "session_id": "s-1", "action": "view", "payload": ');
      lines.splice(20, 0, JSON.stringify({ timestamp: 'yesterday', session_id: 's-2', action: 'view', payload: {} }));
    }
    objects[`events/events-2026-11-${10 + part}.ndjson.gz`] = lines.join('\n') + '\n';
  }
  return objects;
}
