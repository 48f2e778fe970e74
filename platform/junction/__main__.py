from junction.cli import main

main()
