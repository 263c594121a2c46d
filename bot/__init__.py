"""Runtime of Trợ lý Khuyến công: settings, engine, transports, workers, command line."""
