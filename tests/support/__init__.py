"""What tests build on, one of each: shop back ends, throwaway databases, the demo, a keychain."""
