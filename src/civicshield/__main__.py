from civicshield.cli import main

main()
