low, high = 1, 10**9
while True:
    middle = (low + high) // 2
    print("?", middle, flush=True)
    answer = input().strip()
    if answer == "=":
        print("!", middle, flush=True)
        break
    if answer == "<":
        high = middle - 1
    else:
        low = middle + 1
