"""LakeLens's domain: settings, backends, SQL guard, demo lake, CLI. No Streamlit here except ``lib.data``."""
