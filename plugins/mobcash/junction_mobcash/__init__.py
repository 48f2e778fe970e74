"""Junction's MobCash plugin: deposits to players' balances from a tenant's cash desk."""
