"""The live room: lives and their replays and clips, published tasks, live coupons, reminders."""
