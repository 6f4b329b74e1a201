"""The version of plsim, in a module of its own so that any module can read it without importing the
package (and everything it imports) first."""
__version__ = "0.1.0"
