"""x"""
revision = "a"
