# Guesses without asking.
print("! 42", flush=True)
