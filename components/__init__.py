"""Reusable UI pieces the pages compose."""
