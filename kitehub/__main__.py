from kitehub.cli import main

main()
