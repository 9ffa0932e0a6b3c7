import XpidCLI
