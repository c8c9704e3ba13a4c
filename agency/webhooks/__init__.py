"""Signed webhooks to partner clients (Standard Webhooks style), delivered in the background."""
