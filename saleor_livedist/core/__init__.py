"""The engine, with no Django or Saleor imports: events, attribution, pricing, ledger, live room, Store port."""
