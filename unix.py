"""x"""
revision = "a"
