"""Market data: ticker symbols, price sources, validation."""
