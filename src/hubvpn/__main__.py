from hubvpn.cli import main

main()
